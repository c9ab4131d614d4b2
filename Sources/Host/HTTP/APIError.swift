import Foundation
import Hummingbird

/// An error answered as the API's error shape, `{"error": "message"}`, with its status.
public struct APIError: Error, HTTPResponseError, Sendable {
    public let status: HTTPResponse.Status
    public let message: String
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.message = message
        self.headers = headers
    }

    /// The answer's body, `{"error": message}`.
    public var body: Data { JSONText.error(message) }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        JSONResponse.make(status: status, body: body, headers: headers)
    }
}

/// Builds JSON responses.
enum JSONResponse {
    static func make(status: HTTPResponse.Status, body: Data, headers: HTTPFields = [:]) -> Response {
        Response(status: status, headers: fields(headers), body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    static let contentType = "application/json; charset=utf-8"

    /// `headers` with the JSON content type.
    static func fields(_ headers: HTTPFields = [:]) -> HTTPFields {
        var fields = headers
        fields[.contentType] = contentType
        return fields
    }
}
