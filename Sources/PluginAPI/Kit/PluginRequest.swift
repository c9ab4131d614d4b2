import Foundation

/// One HTTP request the host routed to this plugin. Everything is copied out of the C request,
/// so it stays valid after the call.
public struct PluginRequest: Sendable {
    public let method: String
    public let path: String
    /// The declared pattern that matched, e.g. `/iot/nodes/:device_id`: switch on it to dispatch.
    public let route: String
    public let pathParameters: [String: String]
    public let query: [String: String]
    public let headers: [String: String]
    public let body: Data
    public let clientIP: String
    public let requestID: String
    /// The authenticated caller, or nil on a public route.
    public let user: Caller?

    public struct Caller: Sendable, Equatable {
        public let id: String
        public let role: String

        public init(id: String, role: String) {
            self.id = id
            self.role = role
        }
    }

    public init(method: String, path: String, route: String, pathParameters: [String: String] = [:],
                query: [String: String] = [:], headers: [String: String] = [:], body: Data = Data(),
                clientIP: String = "", requestID: String = "", user: Caller? = nil) {
        self.method = method
        self.path = path
        self.route = route
        self.pathParameters = pathParameters
        self.query = query
        self.headers = headers
        self.body = body
        self.clientIP = clientIP
        self.requestID = requestID
        self.user = user
    }

    /// Decodes the JSON body, turning every decoding failure into a 400 with a readable reason.
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONCoding.decodeBody(type, from: body)
    }

    /// The caller, or a 401 when the route was reached without one.
    public func requireUser() throws -> Caller {
        guard let user else { throw PluginError(.unauthorized, "authentication required") }
        return user
    }
}

/// A plugin's answer to a request.
public struct PluginResponse: Sendable {
    public var status: Int
    public var body: Data

    public init(status: Int, body: Data) {
        self.status = status
        self.body = body
    }

    /// A JSON answer.
    public static func json<T: Encodable>(_ value: T, status: Int = 200) throws -> PluginResponse {
        PluginResponse(status: status, body: try JSONCoding.encode(value))
    }

    /// The API's error shape: `{"error": message}`.
    public static func error(_ message: String, status: Int) -> PluginResponse {
        PluginResponse(status: status, body: JSONCoding.errorBody(message))
    }
}
