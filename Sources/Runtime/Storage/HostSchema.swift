/// The host's own tables (users and sessions), applied like a plugin's migrations under the id
/// `host`, before any plugin loads.
enum HostSchema {
    static let migrations: [PluginDeclaration.Migration] = [
        .init(id: "001_users", sql: """
            CREATE TABLE host_users (
                id TEXT PRIMARY KEY,
                wallet_address TEXT NOT NULL UNIQUE,
                role TEXT NOT NULL CHECK (role IN ('Recipient', 'Donor', 'NetworkNodeOperator')),
                location TEXT NOT NULL DEFAULT '',
                kyc_status TEXT NOT NULL DEFAULT 'pending',
                created_at TEXT NOT NULL
            );
            CREATE TABLE host_refresh_tokens (
                token_hash TEXT PRIMARY KEY,
                user_id TEXT NOT NULL REFERENCES host_users(id),
                family_id TEXT NOT NULL,
                expires_at INTEGER NOT NULL,
                revoked_at INTEGER,
                created_at INTEGER NOT NULL
            );
            CREATE INDEX host_refresh_tokens_family ON host_refresh_tokens(family_id);
            CREATE TABLE host_auth_challenges (
                nonce TEXT PRIMARY KEY,
                wallet_address TEXT NOT NULL,
                expires_at INTEGER NOT NULL,
                used_at INTEGER
            );
            """),
    ]
}
