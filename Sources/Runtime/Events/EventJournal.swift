import Foundation
import Logging

/// Committed events numbered and kept by the database, for hosts that share one (replicas on
/// PostgreSQL): each event is written in the transaction that produced it, with an id taken in
/// commit order, and every replica's hub publishes the same events with the same ids — an SSE
/// client may reconnect to any replica with its `Last-Event-ID`, and a restarted replica replays
/// what its predecessors published. A host on SQLite has none: its hub numbers its own events.
public protocol EventJournal: AnyObject, Sendable {
    /// Inside the batch's write transaction: numbers and stores the frames (`EventHub.frame`) in
    /// order; answers them with their ids, or nil when there were none.
    func record(_ events: [RecordedEvent], in session: StorageSession) throws -> [HubEvent]?
    /// After the commit, before the batch answers: publishes the batch's own events — straight
    /// to the hub when they follow what it published last, else by catching up from the table.
    func publish(_ committed: [HubEvent]) async
    /// Publishes to the hub, in id order, every recorded event it has not published, at least up
    /// to `id`.
    func catchUp(through id: UInt64?) async
    /// Stops listening for other replicas' events.
    func stop()
}

/// An event on its way into the journal.
public struct RecordedEvent: Sendable {
    public let type: String
    public let frame: String
}

