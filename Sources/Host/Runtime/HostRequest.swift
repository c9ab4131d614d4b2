import Foundation

/// The caller of a protected route, as the authenticator found it in storage.
public struct AuthenticatedUser: Sendable, Equatable {
    public let id: String
    /// The role stored now, never one cached in a token.
    public let role: String

    public init(id: String, role: String) {
        self.id = id
        self.role = role
    }
}

/// A request on its way to a plugin route, independent of the HTTP framework.
public struct HostRequest: Sendable {
    public var method: String
    public var path: String
    public var pathParameters: [String: String]
    public var query: [String: String]
    public var headers: [String: String]
    public var body: Data
    public var clientIP: String
    public var requestID: String
    public var user: AuthenticatedUser?

    public init(method: String, path: String, pathParameters: [String: String] = [:], query: [String: String] = [:],
                headers: [String: String] = [:], body: Data = Data(), clientIP: String = "", requestID: String = "",
                user: AuthenticatedUser? = nil) {
        self.method = method
        self.path = path
        self.pathParameters = pathParameters
        self.query = query
        self.headers = headers
        self.body = body
        self.clientIP = clientIP
        self.requestID = requestID
        self.user = user
    }
}

/// A plugin's answer: an HTTP status and a JSON body.
public struct HostResponse: Sendable, Equatable {
    public var status: Int
    public var body: Data

    public init(status: Int, body: Data) {
        self.status = status
        self.body = body
    }

    static func error(_ status: Int, _ message: String) -> HostResponse {
        HostResponse(status: status, body: JSONText.error(message))
    }
}
