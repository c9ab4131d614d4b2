/// A C function's signature as plugins.conf declares it: `double(int32)`, `int32(double,double)`.
/// Only the scalar types the hook points use cross: 32- and 64-bit integers and doubles.
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

/// The places where an operator may plug a foreign C function, and the signature each expects.
public enum HookPoints {
    public static let expected: [String: HookSignature] = [
        // pricing factors; a plugin that quotes uses a bound hook instead of its own factor
        "pricing.f_sd": HookSignature(returns: .double, arguments: [.int32, .int32]),   // (open sells, open buys)
        "pricing.f_soc": HookSignature(returns: .double, arguments: [.double]),         // (mean SoC %, −1 when unknown)
        "pricing.f_dist": HookSignature(returns: .double, arguments: [.double]),        // (distance)
        "pricing.f_time": HookSignature(returns: .double, arguments: [.int32]),         // (local hour 0–23)
        "pricing.f_quality": HookSignature(returns: .double, arguments: [.double]),     // (quality score, −1 when unknown)
        // the default scheduler's per-node decision: 0 idle, 1 charge, 2 discharge, −1 no opinion
        "scheduler.node": HookSignature(returns: .int32, arguments: [.double, .double]), // (voltage, SoC %)
    ]
}
