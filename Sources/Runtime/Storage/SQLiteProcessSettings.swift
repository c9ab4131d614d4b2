import CSQLiteConfig

/// SQLite settings that hold for the whole process. SQLite takes them only before it initializes,
/// that is before the first connection opens, so `Store.init` applies them before opening one.
public enum SQLiteProcessSettings {
    /// `SQLITE_OK` once applied; `SQLITE_MISUSE` when a connection opened before the first store
    /// (SQLite then keeps its defaults: correct, with one mutex on every allocation).
    public static let applied: Int32 = stl_sqlite_disable_memory_statistics()
}
