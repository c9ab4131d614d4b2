#include <sqlite3.h>

/// `sqlite3_config` is variadic, which Swift cannot call: one wrapper per setting the host makes.
/// Turns SQLite's memory statistics off. With them on, every allocation SQLite makes takes one
/// process-wide mutex, which the event loops' reader connections then contend for (`perf`
/// showed it as the most frequent futex on a plugin read). Valid only before SQLite initializes.
static inline int stl_sqlite_disable_memory_statistics(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}
