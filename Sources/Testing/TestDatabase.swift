import Foundation

/// Where test hosts keep their data. Unset, each host gets a private temporary SQLite database.
/// `STELLTRON_TEST_DATABASE=postgres://USER@HOST:PORT/DBNAME` runs every test host on that
/// PostgreSQL database instead, each in a schema of its own (`?schema=t_…`), so that the same
/// tests drive both engines (CI runs them twice).
public enum TestDatabase {
    public static let variable = "STELLTRON_TEST_DATABASE"

    public static var postgresURL: String? {
        guard let value = ProcessInfo.processInfo.environment[variable], value.hasPrefix("postgres") else { return nil }
        return value
    }

    /// A database no other host uses: `:memory:`, or a fresh PostgreSQL schema.
    public static func privateLocation() -> String {
        guard let url = postgresURL else { return ":memory:" }
        let schema = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        return url + (url.contains("?") ? "&" : "?") + "schema=\(schema)"
    }

    /// Replicas on PostgreSQL share a configured JWT secret; a test host gets a random one.
    public static func jwtSecret() -> String? {
        postgresURL == nil ? nil : UUID().uuidString + UUID().uuidString
    }
}
