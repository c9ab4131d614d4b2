import Foundation

/// The kinds of call into a plugin. Every call runs in exactly one scope of one kind, made by
/// `PluginRuntime.perform` (or `performAtLoad`), which decides commit or rollback and publishes.
public enum CallKind: String, Sendable {
    /// A read route: a snapshot of the database; no writes and no events.
    case read
    /// A write route, or a service the host calls on its own behalf (the CLI, the testing kit): a
    /// savepoint inside the next group-commit batch.
    case write
    /// A plugin's periodic work: a savepoint inside the next group-commit batch, like a write.
    case tick
    /// A plugin's `create` at load: a transaction of its own, before the server serves anything.
    case load

    var canWrite: Bool { self != .read }
}

/// An event a plugin emitted, waiting for its transaction to commit.
struct PendingEvent {
    let type: String
    let payloadJSON: Data
}

/// The storage and event state shared by one call and every service call and event delivery it
/// causes: all of them read and write in the same transaction and commit or roll back together.
final class CallScope {
    let kind: CallKind
    let session: StorageSession
    let requestID: String
    var events: [PendingEvent] = []

    init(kind: CallKind, session: StorageSession, requestID: String) {
        self.kind = kind
        self.session = session
        self.requestID = requestID
    }

    var canWrite: Bool { kind.canWrite }
}

/// What a scoped call hands back to `PluginRuntime.perform`: its answer, and whether its writes
/// and events are kept (released) or undone (rolled back to the scope's savepoint).
struct ScopedAnswer<Answer> {
    let answer: Answer
    let keep: Bool
}
