import Foundation
import Hummingbird
import StelltronPluginKit

/// `/api/v1/auth/*`: challenge, signup, login, refresh, me.
enum AuthEndpoints {
    struct ChallengeRequest: Decodable { var wallet_address: String }
    struct RefreshRequest: Decodable { var refresh_token: String }

    static func register(on router: Router<HostRequestContext>, auth: AuthService, bodyLimit: Int) {
        router.on(.challenge) { request, _ -> Response in
            let input = try await decode(ChallengeRequest.self, request, limit: bodyLimit)
            let challenge = try await auth.challenge(for: input.wallet_address)
            return try json(.ok, ["message": challenge.message, "expires_at": Timestamp.iso8601(challenge.expiresAt)])
        }
        router.on(.signup) { request, _ -> Response in
            let (user, created) = try await auth.signUp(try await decode(AuthService.Proof.self, request, limit: bodyLimit))
            return try json(created ? .created : .ok, user)
        }
        router.on(.login) { request, _ -> Response in
            let tokens = try await auth.logIn(try await decode(AuthService.Proof.self, request, limit: bodyLimit))
            return try json(.ok, ["access_token": tokens.access, "refresh_token": tokens.refresh])
        }
        router.on(.refresh) { request, _ -> Response in
            let input = try await decode(RefreshRequest.self, request, limit: bodyLimit)
            let tokens = try await auth.refresh(input.refresh_token)
            return try json(.ok, ["access_token": tokens.access, "refresh_token": tokens.refresh])
        }
        router.on(.me) { request, _ -> Response in
            try json(.ok, try await auth.user(forAccessToken: try BearerAuthenticator.bearerToken(request)))
        }
    }

    /// Reads and decodes a JSON body; every failure is a 400 (or 413) with a readable reason.
    static func decode<T: Decodable>(_ type: T.Type, _ request: Request, limit: Int) async throws -> T {
        let data = try await PluginRoutes.collectBody(request, limit: limit)
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let error as DecodingError {
            throw APIError(.badRequest, JSONCoding.describe(error))
        }
    }

    static func json(_ status: HTTPResponse.Status, _ value: some Encodable) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return JSONResponse.make(status: status, body: try encoder.encode(value))
    }
}
