import StelltronPluginKit

/// The IoT plugin's tables: devices (claimed by an owner or not), node details, the current
/// command per node, the scheduling log, manual transfers, quality metrics and energy reports.
enum Schema {
    static let migrations = [
        Migration("001_devices", """
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
        Migration("002_device_keys", """
            ALTER TABLE iot_devices ADD COLUMN device_key TEXT;
            """),
    ]
}
