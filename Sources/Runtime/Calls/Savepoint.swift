/// The host's savepoints: one around each writing call in a group-commit batch, one around each
/// nested service call.
enum Savepoint {
    /// Runs `body` in a savepoint named `name`: released when `body` keeps its work, rolled back to
    /// (undone) and released otherwise. A failing SAVEPOINT, ROLLBACK TO or RELEASE throws: the
    /// enclosing transaction is then in an unknown state and must not commit.
    static func run<Answer>(_ session: StorageSession, named name: String, _ body: () -> ScopedAnswer<Answer>) throws -> ScopedAnswer<Answer> {
        try session.savepoint(.begin, named: name)
        let outcome = body()
        if !outcome.keep {
            try session.savepoint(.rollback, named: name)
        }
        try session.savepoint(.release, named: name)
        return outcome
    }
}
