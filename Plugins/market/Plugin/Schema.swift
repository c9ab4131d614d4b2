import StelltronPluginKit

/// The market's tables. Quantities are integer micro-kWh and prices integer micro-units per kWh,
/// so partial fills never lose or invent energy.
enum Schema {
    static let migrations = [
        Migration("001_orders", """
            CREATE TABLE market_orders (
                id TEXT PRIMARY KEY,
                seq INTEGER NOT NULL UNIQUE,
                user_id TEXT NOT NULL,
                type TEXT NOT NULL CHECK (type IN ('buy', 'sell')),
                kwh_micro INTEGER NOT NULL CHECK (kwh_micro > 0),
                remaining_micro INTEGER NOT NULL CHECK (remaining_micro >= 0 AND remaining_micro <= kwh_micro),
                price_micro INTEGER NOT NULL CHECK (price_micro > 0),
                status TEXT NOT NULL CHECK (status IN ('Created', 'PartiallyFilled', 'Matched', 'Cancelled')),
                source TEXT NOT NULL,
                created_at TEXT NOT NULL
            );
            CREATE INDEX market_orders_book ON market_orders (type, status, price_micro, seq);
            CREATE INDEX market_orders_user ON market_orders (user_id, seq);
            CREATE TABLE market_trades (
                seq INTEGER PRIMARY KEY,
                id TEXT NOT NULL UNIQUE,
                buy_order_id TEXT NOT NULL REFERENCES market_orders (id),
                sell_order_id TEXT NOT NULL REFERENCES market_orders (id),
                donor_id TEXT NOT NULL,
                recipient_id TEXT NOT NULL,
                kwh_micro INTEGER NOT NULL CHECK (kwh_micro > 0),
                price_micro INTEGER NOT NULL,
                token_amount_micro INTEGER NOT NULL,
                fee_micro INTEGER NOT NULL,
                tx_hash TEXT NOT NULL,
                created_at TEXT NOT NULL,
                created_ms INTEGER NOT NULL
            );
            CREATE TABLE market_last_quote (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                price REAL NOT NULL,
                recorded_ms INTEGER NOT NULL
            );
            """),
        Migration("002_last_tick", """
            CREATE TABLE market_last_tick (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                price REAL NOT NULL
            );
            """),
    ]
}
