import Foundation
import StelltronPluginKit

/// A marketplace user. `id` is the Stellar address.
public struct User: Codable, Sendable, Equatable {
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

/// The host's users table, used by the auth routes and by the `host.users.*` services, through
/// whichever storage engine the call runs on.
public enum UserStore {
    static let columns = "id, wallet_address, role, location, kyc_status, created_at"

    /// The whole user (`/auth/me`, the `host.users.*` services), read field by field rather than
    /// through a `Decodable` decoder, which was most of this lookup's cost in an earlier profile.
    public static func find(_ id: String, in session: StorageSession) throws -> User? {
        guard let row = try session.rows("SELECT \(columns) FROM host_users WHERE id = ?", [.string(id)]).first else { return nil }
        func text(_ column: String) -> String { row[column]?.stringValue ?? "" }
        return User(id: text("id"), wallet_address: text("wallet_address"), role: text("role"), location: text("location"),
                    kyc_status: text("kyc_status"), created_at: text("created_at"))
    }

    /// The stored role of a user, nil when the user is gone: what every protected request reads
    /// (one column, not the six of `find`, which was 5 % of a price request's samples).
    public static func role(of id: String, in session: StorageSession) throws -> String? {
        try session.firstText("SELECT role FROM host_users WHERE id = ?", [id])
    }

    /// Creates the user of a checked Stellar address if needed; returns it and whether it is new.
    public static func signUp(_ address: String, at date: Date, in session: StorageSession) throws -> (user: User, created: Bool) {
        if let existing = try find(address, in: session) { return (existing, false) }
        let user = User(id: address, wallet_address: address, role: Role.recipient.rawValue,
                        location: "", kyc_status: "pending", created_at: Timestamp.iso8601(date))
        try session.run(
            "INSERT INTO host_users (\(columns)) VALUES (?, ?, ?, ?, ?, ?)",
            [.string(user.id), .string(user.wallet_address), .string(user.role), .string(user.location), .string(user.kyc_status), .string(user.created_at)])
        return (user, true)
    }

    /// Applies a promotion; a request for a lower or equal role leaves the stored role as it is.
    public static func promote(_ id: String, to role: Role, location: String? = nil, in session: StorageSession) throws -> User? {
        guard var user = try find(id, in: session) else { return nil }
        let current = Role(rawValue: user.role) ?? .recipient
        if role.rank > current.rank {
            user.role = role.rawValue
            try session.run("UPDATE host_users SET role = ? WHERE id = ?", [.string(role.rawValue), .string(id)])
        }
        if let location, !location.isEmpty {
            user.location = location
            try session.run("UPDATE host_users SET location = ? WHERE id = ?", [.string(location), .string(id)])
        }
        return user
    }

    /// Stores `id` with `role` as given, creating it if needed — for a test host seeding callers,
    /// never for a request (roles only change through `promote`).
    public static func seed(_ id: String, role: String, at date: Date, in session: StorageSession) throws -> User {
        try session.run(
            """
            INSERT INTO host_users (\(columns)) VALUES (?, ?, ?, '', 'pending', ?)
            ON CONFLICT(id) DO UPDATE SET role = excluded.role
            """,
            [.string(id), .string(id), .string(role), .string(Timestamp.iso8601(date))])
        return try find(id, in: session)!
    }

    public static func count(in session: StorageSession) throws -> Int {
        Int(try session.rows("SELECT COUNT(*) AS n FROM host_users").first?["n"]?.int64Value ?? 0)
    }
}
