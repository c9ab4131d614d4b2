import Foundation
import GRDB

/// A marketplace user. `id` is the Stellar address.
public struct User: Codable, Sendable, Equatable, FetchableRecord {
    public var id: String
    public var wallet_address: String
    public var role: String
    public var location: String
    public var kyc_status: String
    public var created_at: String
}

/// Roles and the only ways they change (behaviour §1): Recipient at signup; a first sell order
/// makes a Recipient a Donor; registering a network node makes anyone a NetworkNodeOperator.
/// Nobody drops back.
public enum Role: String, CaseIterable, Sendable {
    case recipient = "Recipient"
    case donor = "Donor"
    case networkNodeOperator = "NetworkNodeOperator"

    var rank: Int {
        switch self {
        case .recipient: return 0
        case .donor: return 1
        case .networkNodeOperator: return 2
        }
    }
}

/// The host's users table, used by the auth routes and by the `host.users.*` services.
public enum UserStore {
    public static func find(_ id: String, in db: Database) throws -> User? {
        try User.fetchOne(db, sql: "SELECT id, wallet_address, role, location, kyc_status, created_at FROM host_users WHERE id = ?", arguments: [id])
    }

    /// Creates the user of a checked Stellar address if needed; returns it and whether it is new.
    public static func signUp(_ address: String, at date: Date, in db: Database) throws -> (user: User, created: Bool) {
        if let existing = try find(address, in: db) { return (existing, false) }
        let user = User(id: address, wallet_address: address, role: Role.recipient.rawValue,
                        location: "", kyc_status: "pending", created_at: Timestamps.iso8601(date))
        try db.execute(
            sql: "INSERT INTO host_users (id, wallet_address, role, location, kyc_status, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [user.id, user.wallet_address, user.role, user.location, user.kyc_status, user.created_at])
        return (user, true)
    }

    /// Applies a promotion; a request for a lower or equal role leaves the stored role as it is.
    public static func promote(_ id: String, to role: Role, location: String? = nil, in db: Database) throws -> User? {
        guard var user = try find(id, in: db) else { return nil }
        let current = Role(rawValue: user.role) ?? .recipient
        if role.rank > current.rank {
            user.role = role.rawValue
            try db.execute(sql: "UPDATE host_users SET role = ? WHERE id = ?", arguments: [role.rawValue, id])
        }
        if let location, !location.isEmpty {
            user.location = location
            try db.execute(sql: "UPDATE host_users SET location = ? WHERE id = ?", arguments: [location, id])
        }
        return user
    }

    /// Stores `id` with `role` as given, creating it if needed — for a test host seeding callers,
    /// never for a request (roles only change through `promote`).
    public static func seed(_ id: String, role: String, at date: Date, in db: Database) throws -> User {
        try db.execute(
            sql: """
                INSERT INTO host_users (id, wallet_address, role, location, kyc_status, created_at) VALUES (?, ?, ?, '', 'pending', ?)
                ON CONFLICT(id) DO UPDATE SET role = excluded.role
                """,
            arguments: [id, id, role, Timestamps.iso8601(date)])
        return try find(id, in: db)!
    }

    public static func count(in db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM host_users") ?? 0
    }
}

/// The API's timestamp form: `2026-02-23T09:56:48Z`.
public enum Timestamps {
    public static func iso8601(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}
