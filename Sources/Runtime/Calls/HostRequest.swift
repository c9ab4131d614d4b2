import CStelltronPluginAPI
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

/// Who calls a protected route, as the authenticator answers.
public enum Caller: Sendable, Equatable {
    /// A caller the authenticator resolved completely (its own id and role).
    case user(AuthenticatedUser)
    /// The user of a verified access token: the runtime reads the stored role inside the call's
    /// own storage scope (the same snapshot or transaction the plugin sees — one storage round
    /// trip per request instead of two), and answers 401 when the user is gone.
    case storedUser(id: String)

    public var id: String {
        switch self {
        case .user(let user): return user.id
        case .storedUser(let id): return id
        }
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
    public var caller: Caller?

    public init(method: String, path: String, pathParameters: [String: String] = [:], query: [String: String] = [:],
                headers: [String: String] = [:], body: Data = Data(), clientIP: String = "", requestID: String = "",
                user: AuthenticatedUser? = nil) {
        self.init(method: method, path: path, pathParameters: pathParameters, query: query, headers: headers, body: body,
                  clientIP: clientIP, requestID: requestID, caller: user.map(Caller.user))
    }

    public init(method: String, path: String, pathParameters: [String: String] = [:], query: [String: String] = [:],
                headers: [String: String] = [:], body: Data = Data(), clientIP: String = "", requestID: String = "",
                caller: Caller?) {
        self.method = method
        self.path = path
        self.pathParameters = pathParameters
        self.query = query
        self.headers = headers
        self.body = body
        self.clientIP = clientIP
        self.requestID = requestID
        self.caller = caller
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

/// The request as the ABI's C struct, with the memory it points into. Built before the
/// request waits for storage, so the single writer does not spend its time on it.
final class MarshaledRequest {
    let arena = CStringArena()
    var raw = stl_request()
    let request: HostRequest

    init(_ request: HostRequest, route: PluginDeclaration.Route) {
        self.request = request
        raw.struct_size = UInt32(MemoryLayout<stl_request>.size)
        raw.flags = (route.isProtected ? STL_ROUTE_PROTECTED : 0) | (route.writes ? STL_ROUTE_WRITE : 0)
        raw.method = arena.str(request.method)
        raw.path = arena.str(request.path)
        raw.route = arena.str(route.path)
        raw.path_params_json = arena.str(JSONText.objectBytes(request.pathParameters))
        raw.query_json = arena.str(JSONText.objectBytes(request.query))
        raw.headers_json = arena.str(JSONText.objectBytes(request.headers))
        let body = arena.str(request.body)
        raw.body = stl_bytes_view(ptr: UnsafeRawPointer(body.ptr)?.assumingMemoryBound(to: UInt8.self), len: body.len)
        raw.client_ip = arena.str(request.clientIP)
        raw.request_id = arena.str(request.requestID)
        raw.user_id = arena.str("")
        raw.user_role = arena.str("")
        if case .user(let user)? = request.caller { setUser(user) }
    }

    /// The caller's id and role as the plugin sees them (`user_id`, `user_role`).
    func setUser(_ user: AuthenticatedUser) {
        raw.user_id = arena.str(user.id)
        raw.user_role = arena.str(user.role)
    }
}
