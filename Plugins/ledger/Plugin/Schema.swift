import StelltronPluginKit

/// The ledger's tables. Amounts are integer micro-LT; totals are kept in micro units too.
enum Schema {
    static let migrations = [
        PluginManifest.Migration("001_journal", """
            CREATE TABLE ledger_accounts (
                id TEXT PRIMARY KEY,
                balance INTEGER NOT NULL DEFAULT 0,
                CHECK (balance >= 0 OR id = 'issuance')
            );
            CREATE TABLE ledger_entries (
                seq INTEGER PRIMARY KEY,
                kind TEXT NOT NULL,
                debit_account TEXT NOT NULL,
                credit_account TEXT NOT NULL,
                amount INTEGER NOT NULL CHECK (amount >= 0),
                reference TEXT NOT NULL,
                memo TEXT NOT NULL,
                details TEXT NOT NULL,
                created_at TEXT NOT NULL,
                prev_hash TEXT NOT NULL,
                hash TEXT NOT NULL UNIQUE
            );
            CREATE INDEX ledger_entries_kind ON ledger_entries (kind, seq);
            CREATE INDEX ledger_entries_debit ON ledger_entries (debit_account, seq);
            CREATE INDEX ledger_entries_credit ON ledger_entries (credit_account, seq);
            CREATE TABLE ledger_trades (
                seq INTEGER PRIMARY KEY REFERENCES ledger_entries (seq),
                trade_id TEXT NOT NULL UNIQUE,
                donor_id TEXT NOT NULL,
                recipient_id TEXT NOT NULL
            );
            CREATE INDEX ledger_trades_donor ON ledger_trades (donor_id, seq);
            CREATE INDEX ledger_trades_recipient ON ledger_trades (recipient_id, seq);
            CREATE TABLE ledger_totals (
                name TEXT PRIMARY KEY,
                value INTEGER NOT NULL
            );
            """),
        // The state of the journal as last verified (a prefix of it), so that a public verify
        // re-hashes only the entries after it.
        PluginManifest.Migration("003_checkpoint", """
            CREATE TABLE ledger_checkpoint (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                seq INTEGER NOT NULL,
                hash TEXT NOT NULL,
                balances TEXT NOT NULL,
                checked_at TEXT NOT NULL
            );
            """),
    ]
}
