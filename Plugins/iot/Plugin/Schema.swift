import StelltronPluginKit

/// The IoT plugin's tables: devices (claimed by an owner or not), node details, the current
/// command per node, the scheduling log, manual transfers, quality metrics, energy reports and
/// the nonces of signed device posts.
enum Schema {
    static let migrations = [
        PluginManifest.Migration("001_devices", """
            CREATE TABLE iot_devices (
                device_id TEXT PRIMARY KEY,
                owner_id TEXT,
                device_type TEXT NOT NULL DEFAULT 'raspi',
                location TEXT NOT NULL DEFAULT '',
                status TEXT NOT NULL DEFAULT 'unknown',
                battery_level REAL,
                voltage REAL,
                state TEXT,
                source TEXT,
                reported_at TEXT,
                last_seen_ms INTEGER NOT NULL DEFAULT 0,
                registered_at TEXT NOT NULL
            );
            CREATE INDEX iot_devices_owner ON iot_devices (owner_id);
            CREATE TABLE iot_nodes (
                device_id TEXT NOT NULL,
                uid TEXT NOT NULL,
                ip TEXT,
                voltage REAL,
                soc REAL,
                state TEXT,
                last_seen_ms INTEGER NOT NULL,
                PRIMARY KEY (device_id, uid)
            );
            CREATE TABLE iot_commands (
                device_id TEXT NOT NULL,
                node_id TEXT NOT NULL,
                action TEXT NOT NULL,
                reason TEXT NOT NULL,
                updated_ms INTEGER NOT NULL,
                PRIMARY KEY (device_id, node_id)
            );
            CREATE TABLE iot_schedule_log (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                device_id TEXT NOT NULL,
                node_id TEXT NOT NULL,
                action TEXT NOT NULL,
                reason TEXT NOT NULL,
                soc REAL NOT NULL,
                voltage REAL NOT NULL,
                created_ms INTEGER NOT NULL
            );
            CREATE TABLE iot_transfers (
                device_id TEXT PRIMARY KEY,
                sender_uid TEXT NOT NULL,
                receiver_uid TEXT NOT NULL,
                started_ms INTEGER NOT NULL
            );
            CREATE TABLE iot_quality (
                device_id TEXT PRIMARY KEY,
                ok_count INTEGER NOT NULL,
                total_count INTEGER NOT NULL,
                voltage_stability REAL,
                battery_health REAL
            );
            CREATE TABLE iot_reports (
                device_id TEXT NOT NULL,
                report_id TEXT NOT NULL,
                response TEXT NOT NULL,
                PRIMARY KEY (device_id, report_id)
            );
            """),
        PluginManifest.Migration("002_device_keys", """
            ALTER TABLE iot_devices ADD COLUMN device_key TEXT;
            """),
        // Device identity by key pair (behaviour §13): only public keys are kept, so the shared
        // HMAC keys of 002 are dropped (such devices must be given a key pair again); a device
        // mints once commissioned, within its rated power; nonces make signed posts single-use.
        PluginManifest.Migration("003_device_identity", """
            ALTER TABLE iot_devices DROP COLUMN device_key;
            ALTER TABLE iot_devices ADD COLUMN public_key TEXT;
            ALTER TABLE iot_devices ADD COLUMN rated_kw REAL;
            ALTER TABLE iot_devices ADD COLUMN commissioned_ms INTEGER;
            ALTER TABLE iot_devices ADD COLUMN commissioned_by TEXT;
            ALTER TABLE iot_devices ADD COLUMN claimed_ms INTEGER;
            ALTER TABLE iot_devices ADD COLUMN energy_until_ms INTEGER;
            UPDATE iot_devices SET claimed_ms = CAST(strftime('%s', 'now') AS INTEGER) * 1000 WHERE owner_id IS NOT NULL;
            CREATE TABLE iot_device_nonces (
                device_id TEXT NOT NULL,
                nonce TEXT NOT NULL,
                seen_ms INTEGER NOT NULL,
                PRIMARY KEY (device_id, nonce)
            );
            CREATE INDEX iot_device_nonces_seen ON iot_device_nonces (device_id, seen_ms);
            """, postgres: """
            ALTER TABLE iot_devices DROP COLUMN device_key;
            ALTER TABLE iot_devices ADD COLUMN public_key TEXT;
            ALTER TABLE iot_devices ADD COLUMN rated_kw DOUBLE PRECISION;
            ALTER TABLE iot_devices ADD COLUMN commissioned_ms BIGINT;
            ALTER TABLE iot_devices ADD COLUMN commissioned_by TEXT;
            ALTER TABLE iot_devices ADD COLUMN claimed_ms BIGINT;
            ALTER TABLE iot_devices ADD COLUMN energy_until_ms BIGINT;
            UPDATE iot_devices SET claimed_ms = CAST(EXTRACT(EPOCH FROM now()) AS BIGINT) * 1000 WHERE owner_id IS NOT NULL;
            CREATE TABLE iot_device_nonces (
                device_id TEXT NOT NULL,
                nonce TEXT NOT NULL,
                seen_ms BIGINT NOT NULL,
                PRIMARY KEY (device_id, nonce)
            );
            CREATE INDEX iot_device_nonces_seen ON iot_device_nonces (device_id, seen_ms);
            """),
    ]
}
