import StelltronPluginKit

/// The market's tables. Quantities are integer micro-kWh and prices integer micro-units per kWh,
/// so partial fills never lose or invent energy.
enum Schema {
    static let migrations = [
        PluginManifest.Migration("001_orders", """
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
        PluginManifest.Migration("002_last_tick", """
            CREATE TABLE market_last_tick (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                price REAL NOT NULL
            );
            """),
        // Every quote needs the number of open orders on each side; counting them scanned every
        // open order on every order placed. Triggers keep the counts in the same transaction
        // as the change, whoever makes it. PostgreSQL's triggers are functions: its variant says
        // the same in PL/pgSQL.
        PluginManifest.Migration("003_open_counts", """
            CREATE TABLE market_open_counts (
                type TEXT PRIMARY KEY CHECK (type IN ('buy', 'sell')),
                n INTEGER NOT NULL CHECK (n >= 0)
            );
            INSERT INTO market_open_counts (type, n)
                SELECT side, (SELECT COUNT(*) FROM market_orders WHERE type = side AND status IN ('Created', 'PartiallyFilled'))
                FROM (SELECT 'buy' AS side UNION ALL SELECT 'sell');
            CREATE TRIGGER market_open_counts_insert AFTER INSERT ON market_orders
                WHEN NEW.status IN ('Created', 'PartiallyFilled')
            BEGIN
                UPDATE market_open_counts SET n = n + 1 WHERE type = NEW.type;
            END;
            CREATE TRIGGER market_open_counts_update AFTER UPDATE OF type, status ON market_orders
            BEGIN
                UPDATE market_open_counts SET n = n - 1 WHERE type = OLD.type AND OLD.status IN ('Created', 'PartiallyFilled');
                UPDATE market_open_counts SET n = n + 1 WHERE type = NEW.type AND NEW.status IN ('Created', 'PartiallyFilled');
            END;
            CREATE TRIGGER market_open_counts_delete AFTER DELETE ON market_orders
                WHEN OLD.status IN ('Created', 'PartiallyFilled')
            BEGIN
                UPDATE market_open_counts SET n = n - 1 WHERE type = OLD.type;
            END;
            """, postgres: """
            CREATE TABLE market_open_counts (
                type TEXT PRIMARY KEY CHECK (type IN ('buy', 'sell')),
                n BIGINT NOT NULL CHECK (n >= 0)
            );
            INSERT INTO market_open_counts (type, n)
                SELECT side, (SELECT COUNT(*) FROM market_orders WHERE type = side AND status IN ('Created', 'PartiallyFilled'))
                FROM (SELECT 'buy' AS side UNION ALL SELECT 'sell') AS sides;
            CREATE FUNCTION market_open_counts_keep() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status IN ('Created', 'PartiallyFilled') THEN
                    UPDATE market_open_counts SET n = n - 1 WHERE type = OLD.type;
                END IF;
                IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status IN ('Created', 'PartiallyFilled') THEN
                    UPDATE market_open_counts SET n = n + 1 WHERE type = NEW.type;
                END IF;
                RETURN NULL;
            END $$;
            CREATE TRIGGER market_open_counts_keep AFTER INSERT OR DELETE OR UPDATE OF type, status ON market_orders
                FOR EACH ROW EXECUTE FUNCTION market_open_counts_keep();
            """),
        // Dust and stalls (behaviour §13): the per-user open-order cap counts through an index,
        // and an order whose matching was cut short at the per-request bound is marked so the
        // tick goes on matching it.
        PluginManifest.Migration("004_bounded_matching", """
            ALTER TABLE market_orders ADD COLUMN pending_match INTEGER NOT NULL DEFAULT 0;
            CREATE INDEX market_orders_user_status ON market_orders (user_id, status);
            CREATE INDEX market_orders_pending ON market_orders (pending_match, seq) WHERE pending_match = 1;
            """),
        // The per-user cap read a count of the user's open orders on every order placed (linear
        // in them: 0.080 → 0.044 of /health in the bench, where one user holds them all). Triggers
        // keep the count per user, like 003 does per side.
        PluginManifest.Migration("005_user_open_counts", """
            CREATE TABLE market_user_open_counts (
                user_id TEXT PRIMARY KEY,
                n INTEGER NOT NULL CHECK (n >= 0)
            );
            INSERT INTO market_user_open_counts (user_id, n)
                SELECT user_id, COUNT(*) FROM market_orders WHERE status IN ('Created', 'PartiallyFilled') GROUP BY user_id;
            CREATE TRIGGER market_user_open_counts_insert AFTER INSERT ON market_orders
                WHEN NEW.status IN ('Created', 'PartiallyFilled')
            BEGIN
                INSERT INTO market_user_open_counts (user_id, n) VALUES (NEW.user_id, 1)
                    ON CONFLICT(user_id) DO UPDATE SET n = n + 1;
            END;
            CREATE TRIGGER market_user_open_counts_update AFTER UPDATE OF user_id, status ON market_orders
            BEGIN
                UPDATE market_user_open_counts SET n = n - 1 WHERE user_id = OLD.user_id AND OLD.status IN ('Created', 'PartiallyFilled');
                INSERT INTO market_user_open_counts (user_id, n) SELECT NEW.user_id, 1 WHERE NEW.status IN ('Created', 'PartiallyFilled')
                    ON CONFLICT(user_id) DO UPDATE SET n = n + 1;
            END;
            CREATE TRIGGER market_user_open_counts_delete AFTER DELETE ON market_orders
                WHEN OLD.status IN ('Created', 'PartiallyFilled')
            BEGIN
                UPDATE market_user_open_counts SET n = n - 1 WHERE user_id = OLD.user_id;
            END;
            """, postgres: """
            CREATE TABLE market_user_open_counts (
                user_id TEXT PRIMARY KEY,
                n BIGINT NOT NULL CHECK (n >= 0)
            );
            INSERT INTO market_user_open_counts (user_id, n)
                SELECT user_id, COUNT(*) FROM market_orders WHERE status IN ('Created', 'PartiallyFilled') GROUP BY user_id;
            CREATE FUNCTION market_user_open_counts_keep() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status IN ('Created', 'PartiallyFilled') THEN
                    UPDATE market_user_open_counts SET n = n - 1 WHERE user_id = OLD.user_id;
                END IF;
                IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status IN ('Created', 'PartiallyFilled') THEN
                    INSERT INTO market_user_open_counts AS counts (user_id, n) VALUES (NEW.user_id, 1)
                        ON CONFLICT (user_id) DO UPDATE SET n = counts.n + 1;
                END IF;
                RETURN NULL;
            END $$;
            CREATE TRIGGER market_user_open_counts_keep AFTER INSERT OR DELETE OR UPDATE OF user_id, status ON market_orders
                FOR EACH ROW EXECUTE FUNCTION market_user_open_counts_keep();
            """),
    ]
}
