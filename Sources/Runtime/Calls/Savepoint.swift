import GRDB

/// SQL savepoints with statements prepared once per connection. GRDB's `inSavepoint` parses its
/// statements on every call, which is measurable at thousands of calls a second, and a savepoint
/// is opened for every request and every nested service call.
enum Savepoint {
    /// Runs `body` in a savepoint named `name`: released when `body` keeps its work, rolled back to
    /// (undone) and released otherwise. A failing SAVEPOINT, ROLLBACK TO or RELEASE throws: the
    /// enclosing transaction is then in an unknown state and must not commit.
    static func run<Answer>(_ db: Database, named name: String, _ body: () -> ScopedAnswer<Answer>) throws -> ScopedAnswer<Answer> {
        try db.cachedStatement(sql: "SAVEPOINT \(name)").execute()
        let outcome = body()
        if !outcome.keep {
            try db.cachedStatement(sql: "ROLLBACK TRANSACTION TO SAVEPOINT \(name)").execute()
        }
        try db.cachedStatement(sql: "RELEASE SAVEPOINT \(name)").execute()
        return outcome
    }
}
