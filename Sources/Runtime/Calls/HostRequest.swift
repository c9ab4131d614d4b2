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
        raw.path_params_json = arena.str(JSONText.object(request.pathParameters))
        raw.query_json = arena.str(JSONText.object(request.query))
        raw.headers_json = arena.str(JSONText.object(request.headers))
        let body = arena.str(request.body)
        raw.body = stl_bytes_view(ptr: UnsafeRawPointer(body.ptr)?.assumingMemoryBound(to: UInt8.self), len: body.len)
        raw.client_ip = arena.str(request.clientIP)
        raw.request_id = arena.str(request.requestID)
        raw.user_id = arena.str(request.user?.id ?? "")
        raw.user_role = arena.str(request.user?.role ?? "")
    }
}
