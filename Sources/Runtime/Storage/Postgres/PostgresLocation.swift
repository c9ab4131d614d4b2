import Foundation
import PostgresNIO

/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME[?schema=NAME]`, the value of `--database`,
/// `STELLTRON_DATABASE` or `[host] database` that selects PostgreSQL. `schema` (not part of the
/// usual URL) keeps the host's and plugins' tables in one schema: the tests give each host its own.
struct PostgresLocation: Sendable, Equatable {
    let host: String
    let port: Int
    let user: String
    let password: String?
    let database: String
    let schema: String?

    /// True for the values that mean PostgreSQL; every other value is a SQLite path.
    static func isPostgres(_ value: String) -> Bool {
        value.hasPrefix("postgres://") || value.hasPrefix("postgresql://")
    }

    init(_ value: String) throws {
        guard Self.isPostgres(value), let url = URLComponents(string: value), let host = url.host, !host.isEmpty,
              let user = url.user, !user.isEmpty else {
            throw StoreError(message: "the database URL must read postgres://USER[:PASSWORD]@HOST:PORT/DBNAME")
        }
        let database = String(url.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else {
            throw StoreError(message: "the database URL names no database: postgres://USER@HOST:PORT/DBNAME")
        }
        self.host = host
        self.port = url.port ?? 5432
        // URLComponents answers these percent-decoded already.
        self.user = user
        self.password = url.password
        self.database = database
        let schema = url.queryItems?.first { $0.name == "schema" }?.value
        if let schema, !schema.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) || schema.isEmpty {
            throw StoreError(message: "schema must be letters, digits and _")
        }
        self.schema = schema
    }

    var configuration: PostgresConnection.Configuration {
        var configuration = PostgresConnection.Configuration(host: host, port: port, username: user, password: password,
                                                             database: database, tls: .disable)
        configuration.options.additionalStartupParameters = [
            ("application_name", "stelltron"),
            // A transaction left open (a replica cut off mid-batch) must not hold the write lock for ever.
            ("idle_in_transaction_session_timeout", "30000"),
        ] + (schema.map { [("search_path", $0)] } ?? [])
        return configuration
    }

    /// For logs and errors: everything but the password.
    var redacted: String {
        "postgres://\(user)@\(host):\(port)/\(database)" + (schema.map { "?schema=\($0)" } ?? "")
    }
}
