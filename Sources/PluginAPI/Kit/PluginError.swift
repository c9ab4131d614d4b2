import CStelltronPluginAPI

/// An error a plugin throws on purpose. It crosses the ABI as a status code and a message, and the
/// host answers the HTTP caller with the matching status and `{"error": message}`.
public struct PluginError: Error, Equatable, CustomStringConvertible {
    public enum Kind: Int32, Sendable {
        case badRequest = 1, unauthorized = 2, forbidden = 3, notFound = 4, conflict = 5
        case internalError = 6, unknownService = 7, storage = 8, unsupported = 9

        /// The HTTP status a route answers with for this kind of error.
        public var httpStatus: Int {
            switch self {
            case .badRequest: return 400
            case .unauthorized: return 401
            case .forbidden: return 403
            case .notFound: return 404
            case .conflict: return 409
            case .internalError, .unknownService, .storage, .unsupported: return 500
            }
        }
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public static func badRequest(_ message: String) -> PluginError { PluginError(.badRequest, message) }
    public static func forbidden(_ message: String) -> PluginError { PluginError(.forbidden, message) }
    public static func notFound(_ message: String) -> PluginError { PluginError(.notFound, message) }
    public static func conflict(_ message: String) -> PluginError { PluginError(.conflict, message) }
    public static func internalError(_ message: String) -> PluginError { PluginError(.internalError, message) }

    /// Rebuilds the error from a status and message that came back over the ABI.
    init(status: stl_status, message: String) {
        self.init(Kind(rawValue: status) ?? .internalError, message)
    }

    public var description: String { "\(kind): \(message)" }
}
