import Foundation
import Hummingbird
import Logging
import NIOCore

/// Turns every error that reaches the edge into `{"error": "..."}`: unknown paths (404), bodies
/// over the limit (413), framework errors, and anything unexpected (500, logged with the request
/// id, never leaking internals to the caller).
struct JSONErrorMiddleware: RouterMiddleware {
    typealias Context = HostRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return try error.response(from: request, context: context)
        } catch let error as HTTPError {
            let message = error.body ?? Self.defaultMessage(error.status)
            return JSONResponse.make(status: error.status, body: JSONText.error(message), headers: error.headers)
        } catch is NIOTooManyBytesError {
            return JSONResponse.make(status: .contentTooLarge, body: JSONText.error("request body is too large"))
        } catch let error as HTTPResponseError {
            return JSONResponse.make(status: error.status, body: JSONText.error(Self.defaultMessage(error.status)))
        } catch {
            return JSONResponse.make(status: .internalServerError, body: Self.unhandled(error, logger: context.logger, requestID: context.requestID))
        }
    }

    /// Logs an error nothing turned into an answer; the 500's body names only the request.
    static func unhandled(_ error: any Error, logger: Logger, requestID: String) -> Data {
        logger.error("unhandled error", metadata: ["error": .string(String(describing: error))])
        return JSONText.error("internal error (request \(requestID))")
    }

    static func defaultMessage(_ status: HTTPResponse.Status) -> String {
        switch status {
        case .notFound: return "not found"
        case .methodNotAllowed: return "method not allowed"
        case .contentTooLarge: return "request body is too large"
        default: return status.reasonPhrase.lowercased()
        }
    }
}
