import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import NIOCore

/// Mounts every plugin route on the router. Each path pattern answers the methods its plugins
/// declared; any other method gets 405 with `Allow`, instead of the 404 a bare router would give.
enum PluginRoutes {
    static let methods = PluginRouteTable.methods

    /// Returns the table that finds these routes before the router's trie (`PluginRouteTable`):
    /// each served method's handler inside the router's middleware, by path pattern. Call it
    /// after the last middleware is added, as for any route.
    static func register(on router: Router<HostRequestContext>, runtime: PluginRuntime, authenticator: any Authenticator) -> PluginRouteTable {
        let byPath = Dictionary(grouping: runtime.routes) { PluginRegistry.normalized($0.route.path) }
        var responders: [String: [HTTPRequest.Method: PluginRouteTable.Responder]] = [:]
        var served: [String: [HTTPRequest.Method: RegisteredRoute]] = [:]
        for (_, routes) in byPath.sorted(by: { $0.key < $1.key }) {
            // Hummingbird names parameters by position in the trie; use the first spelling.
            let pattern = routes[0].route.path
            let path = RouterPath(pattern)
            let allowed = routes.map(\.route.method).sorted().joined(separator: ", ")
            for method in methods {
                if let registered = routes.first(where: { $0.route.method == method.rawValue }) {
                    let handler = CallbackResponder<HostRequestContext> { request, context in
                        try await serve(registered, request, context, runtime: runtime, authenticator: authenticator)
                    }
                    router.on(path, method: method, responder: handler)
                    responders[pattern, default: [:]][method] = router.middlewares.constructResponder(finalResponder: handler)
                    served[pattern, default: [:]][method] = registered
                } else {
                    refuse(method, on: path, allowed: allowed, router: router)
                }
            }
        }
        return PluginRouteTable(responders, registered: served, otherPaths: HostRoute.all.map(\.path))
    }

    /// The host's own routes (`HostRoute.all`) answer other methods with 405 too.
    static func refuseOtherMethods(on router: Router<HostRequestContext>, _ hostRoutes: [HostRoute]) {
        let byPath = Dictionary(grouping: hostRoutes.compactMap { route -> (path: String, method: HTTPRequest.Method)? in
            HTTPRequest.Method(route.method).map { (route.path, $0) }
        }, by: \.path)
        for (path, routes) in byPath {
            let served = routes.map(\.method)
            let allowed = served.map(\.rawValue).sorted().joined(separator: ", ")
            for method in methods where !served.contains(method) {
                refuse(method, on: RouterPath(path), allowed: allowed, router: router)
            }
        }
    }

    private static func refuse(_ method: HTTPRequest.Method, on path: RouterPath, allowed: String, router: Router<HostRequestContext>) {
        router.on(path, method: method) { _, _ -> Response in
            throw APIError(.methodNotAllowed, "method not allowed; use \(allowed)", headers: [.allow: allowed])
        }
    }

    /// Collects a request body up to `limit` bytes: over it is a 413, a body the client cut short
    /// or framed wrongly (a bad chunk size) a 400 — never a 500.
    static func collectBody(_ request: Request, limit: Int) async throws -> Data {
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > limit {
            throw APIError(.contentTooLarge, "request body is larger than \(limit) bytes")
        }
        do {
            return Data(try await request.body.collect(upTo: limit).readableBytesView)
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, "request body is larger than \(limit) bytes")
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw APIError(.badRequest, "malformed or incomplete request body")
        }
    }

    /// Withheld from plugins: the host checks the caller's credentials and hands the plugin the
    /// user they prove (`user_id`, `user_role`). A plugin — a third party's `.so` among them — that
    /// saw the bearer token or the session cookie could replay them against every other route.
    static let credentialHeaders: Set<HTTPField.Name> = [.authorization, .proxyAuthorization, .cookie]

    private static func serve(_ registered: RegisteredRoute, _ request: Request, _ context: HostRequestContext,
                              runtime: PluginRuntime, authenticator: any Authenticator) async throws -> Response {
        let caller = registered.route.isProtected ? try await authenticator.authenticate(request, context: context) : nil
        context.notes.userID = caller?.id
        context.notes.pluginID = registered.plugin.id
        let body = registered.route.method == "GET" ? Data() : try await collectBody(request, limit: runtime.configuration.bodyLimitBytes)
        let answer = try await runtime.serve(registered, hostRequest(
            request.head, uri: request.uri, parameters: context.parameters, body: body,
            clientIP: context.clientIP, requestID: context.requestID, caller: caller))
        // The runtime answers only statuses within HTTP's range (a plugin's other status is its 500).
        return JSONResponse.make(status: HTTPResponse.Status(code: answer.status), body: answer.body)
    }

    /// What the plugin is handed: the path's parameters percent-decoded, the query, every header
    /// but the credentials (`credentialHeaders`), and the caller the host authenticated.
    static func hostRequest(_ head: HTTPRequest, uri: URI, parameters pathParameters: Parameters, body: Data,
                            clientIP: String, requestID: String, caller: Caller?) -> HostRequest {
        var parameters: [String: String] = [:]
        for (key, value) in pathParameters {
            let text = String(value)
            // A byte search: `String.contains(_: String)` is Foundation's `range(of:)`, 2 % of a
            // one-query read's samples for a 56-character wallet (BENCHMARKS.md, issue 16).
            parameters[String(key)] = text.utf8.contains(UInt8(ascii: "%")) ? text.removingPercentEncoding ?? text : text
        }
        var query: [String: String] = [:]
        for (key, value) in uri.queryParameters {
            query[String(key)] = String(value)
        }
        var headers: [String: String] = [:]
        for field in head.headerFields where !Self.credentialHeaders.contains(field.name) {
            headers[field.name.canonicalName] = field.value
        }
        return HostRequest(
            method: head.method.rawValue, path: uri.path, pathParameters: parameters, query: query,
            headers: headers, body: body, clientIP: clientIP, requestID: requestID, caller: caller)
    }
}
