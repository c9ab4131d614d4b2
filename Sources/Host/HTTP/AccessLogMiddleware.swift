import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// One line per request: method, path, status, duration, client IP, request id, the plugin that
/// served it and, on protected routes, the user — what an operator greps for. The request id is also returned as `X-Request-ID`.
struct AccessLogMiddleware: RouterMiddleware {
    typealias Context = HostRequestContext

    /// Made once: checking a header name's characters on every request showed in profiles.
    private static let requestIDField = HTTPField.Name("X-Request-ID")!

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        var response = try await next(request, context)
        Self.finish(&response.headers, status: response.status, method: request.method, path: request.uri.path, since: start,
                    logger: context.logger, requestID: context.requestID, clientIP: context.clientIP,
                    route: context.endpointPath, notes: context.notes)
        return response
    }

    /// Puts the request id on the response and logs the line; also for requests the event loop
    /// answers itself (`InlineRequests`), whose logger does not name the request
    /// (`loggerNamesRequest` false): then the line's own metadata does, under the same key.
    static func finish(_ headers: inout HTTPFields, status: HTTPResponse.Status, method: HTTPRequest.Method, path: String,
                       since start: ContinuousClock.Instant, logger: Logger, loggerNamesRequest: Bool = true,
                       requestID: String, clientIP: String, route: String?, notes: RequestNotes) {
        // Appended: nothing else writes it, and a subscript's set searches the fields first.
        headers.append(HTTPField(name: requestIDField, value: requestID))
        let elapsed = ContinuousClock.now - start
        // The metadata is an autoclosure: built only when the line is logged at all (formatting
        // it on every request cost a fifth of /health's throughput with LOG_LEVEL=warning).
        logger.info("\(method.rawValue) \(path) \(status.code)",
                    metadata: metadata(status, elapsed, clientIP: clientIP, route: route ?? path, notes: notes,
                                       requestID: loggerNamesRequest ? nil : requestID))
    }

    /// Hummingbird's key for the request id in a request's logger.
    static let requestIDKey = "hb.request.id"

    private static func metadata(_ status: HTTPResponse.Status, _ elapsed: Duration, clientIP: String, route: String,
                                 notes: RequestNotes, requestID: String?) -> Logger.Metadata {
        let milliseconds = Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000
        var metadata: Logger.Metadata = [
            "ms": .string(String(format: "%.2f", milliseconds)),
            "ip": .string(clientIP),
            "status": .stringConvertible(status.code),
            "route": .string(route),
        ]
        if let user = notes.userID { metadata["user"] = .string(user) }
        if let plugin = notes.pluginID { metadata["plugin"] = .string(plugin) }
        if let requestID { metadata[requestIDKey] = .string(requestID) }
        return metadata
    }
}
