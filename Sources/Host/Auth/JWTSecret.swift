import CSodium
import Foundation

/// Where the HS256 secret comes from: the configuration (or STELLTRON_JWT_SECRET, applied into it),
/// else a file `jwt-secret` beside the database, generated once with owner-only permissions. Never
/// a constant in the code. A private in-memory database gets a fresh random secret. On PostgreSQL
/// replicas must share it, so it has to be configured: each generating its own would make one
/// replica's tokens useless on the others.
enum JWTSecret {
    static func resolve(_ configuration: HostConfiguration) throws -> [UInt8] {
        if let configured = configuration.auth.jwtSecret {
            guard configured.utf8.count >= 32 else {
                throw ConfigurationError(file: configuration.sourcePath ?? "plugins.conf", message: "auth.jwt_secret must be at least 32 bytes")
            }
            return Array(configured.utf8)
        }
        if configuration.databasePath == ":memory:" { return random(32) }
        if StorageEngines.isPostgres(configuration.databasePath) {
            throw ConfigurationError(file: configuration.sourcePath ?? "plugins.conf",
                                     message: "on PostgreSQL the replicas share one JWT secret: set STELLTRON_JWT_SECRET (or auth.jwt_secret) to at least 32 bytes")
        }
        let folder = URL(fileURLWithPath: configuration.databasePath).deletingLastPathComponent()
        let file = folder.appendingPathComponent("jwt-secret").path
        if let existing = FileManager.default.contents(atPath: file), existing.count >= 32 {
            return Array(existing)
        }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let secret = Array(random(32).map { String(format: "%02x", $0) }.joined().utf8)
        guard PrivateFile.create(file, contents: Data(secret)) else {
            throw ConfigurationError(file: file, message: "cannot write the generated JWT secret")
        }
        return secret
    }

    private static func random(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        randombytes_buf(&bytes, count)
        return bytes
    }
}
