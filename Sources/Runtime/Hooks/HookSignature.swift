/// A C function's signature as a plugin's hook point and plugins.conf declare it: `double(int32)`,
/// `int32(double,double)`. Only scalars cross: 32- and 64-bit integers and doubles.
public struct HookSignature: Equatable, Sendable, CustomStringConvertible {
    public enum ScalarType: String, Sendable {
        case int32, int64, double
    }

    public let returns: ScalarType
    public let arguments: [ScalarType]

    public init(returns: ScalarType, arguments: [ScalarType]) {
        self.returns = returns
        self.arguments = arguments
    }

    /// Parses `type(type, type)`; nil when the text is not such a signature.
    public init?(_ text: String) {
        let compact = text.filter { !$0.isWhitespace }
        guard let open = compact.firstIndex(of: "("), compact.hasSuffix(")"),
              let returns = ScalarType(rawValue: String(compact[..<open])) else { return nil }
        let inner = compact[compact.index(after: open)..<compact.index(before: compact.endIndex)]
        var arguments: [ScalarType] = []
        if !inner.isEmpty && inner != "void" {
            for part in inner.split(separator: ",", omittingEmptySubsequences: false) {
                guard let type = ScalarType(rawValue: String(part)) else { return nil }
                arguments.append(type)
            }
        }
        self.returns = returns
        self.arguments = arguments
    }

    public var description: String { "\(returns.rawValue)(\(arguments.map(\.rawValue).joined(separator: ",")))" }
}
