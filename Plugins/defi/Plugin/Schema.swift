import StelltronPluginKit

/// Stake positions, flash loans and yield records. Amounts in integer micro-LT.
enum Schema {
    static let migrations = [
        PluginManifest.Migration("001_pool", """
            CREATE TABLE defi_stakes (
                id INTEGER PRIMARY KEY,
                user_id TEXT NOT NULL,
                amount_micro INTEGER NOT NULL CHECK (amount_micro > 0),
                apy REAL NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('active', 'withdrawn')),
                staked_ms INTEGER NOT NULL,
                withdrawn_ms INTEGER
            );
            CREATE INDEX defi_stakes_user ON defi_stakes (user_id, status);
            CREATE TABLE defi_loans (
                id INTEGER PRIMARY KEY,
                borrower_id TEXT NOT NULL,
                kwh REAL NOT NULL,
                tokens_micro INTEGER NOT NULL CHECK (tokens_micro > 0),
                collateral_micro INTEGER NOT NULL,
                fee_micro INTEGER NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('active', 'repaid', 'liquidated')),
                created_ms INTEGER NOT NULL,
                due_ms INTEGER NOT NULL,
                settled_ms INTEGER
            );
            CREATE INDEX defi_loans_due ON defi_loans (status, due_ms);
            CREATE TABLE defi_yields (
                id INTEGER PRIMARY KEY,
                user_id TEXT NOT NULL,
                stake_id INTEGER NOT NULL REFERENCES defi_stakes (id),
                principal_micro INTEGER NOT NULL,
                yield_micro INTEGER NOT NULL,
                apy REAL NOT NULL,
                hours REAL NOT NULL,
                tx_hash TEXT NOT NULL,
                created_ms INTEGER NOT NULL
            );
            CREATE INDEX defi_yields_user ON defi_yields (user_id, id);
            """),
    ]
}
