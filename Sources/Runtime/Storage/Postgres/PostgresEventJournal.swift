import Foundation
import Logging
import NIOCore
import PostgresNIO

/// `EventJournal` in the table `host_events`. Ids are taken under the replicas' write lock
/// (`PostgresEngine`), so they grow in commit order and a reader never sees an id before the
/// ones below it. The producing transaction also sends a NOTIFY (delivered by PostgreSQL at
/// commit, only if it commits) that wakes every replica's listener; a one-second poll covers a
/// listener that lost its connection.
final class PostgresEventJournal: EventJournal, @unchecked Sendable {
    // Sendable: `lock` guards `listener`, `recordedSincePrune` and `isStopped`; the rest is immutable.
    private let engine: PostgresEngine
    private let hub: EventHub
    private let logger: Logger
    /// Events kept in the table for replay; older ones are deleted as new ones arrive.
    private let retention: Int
    private let channel: String
    private let lock = NSLock()
    private var listener: PostgresConnection?
    private var recordedSincePrune = 0
    private var isStopped = false
    private var poller: Task<Void, Never>?

    init(engine: PostgresEngine, hub: EventHub, keep: Int, logger: Logger) throws {
        self.engine = engine
        self.hub = hub
        self.logger = logger
        retention = max(keep, 1024) * 4
        // The schema names the channel (hosts on separate schemas do not wake each other), and the
        // last `keep` events go to the hub, so that Last-Event-ID replay works on a replica that
        // just started.
        let (schema, newest) = try engine.readNow { session in
            (try session.native("SELECT current_schema()").rows.first?.makeRandomAccess()[0].decode(String.self),
             try session.native(PostgresQuery(unsafeSQL: """
                SELECT id, type, frame FROM (SELECT id, type, frame FROM host_events ORDER BY id DESC LIMIT \(max(keep, 1))) AS newest ORDER BY id
                """)).rows)
        }
        channel = "stelltron_events_\(schema ?? "public")"
        publish(newest)
        poller = Task { [weak self] in
            while !Task.isCancelled {
                guard let self else { return }
                await self.listenIfNeeded()
                await self.catchUp(through: nil)
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    deinit {
        stop()
    }

    func stop() {
        let connection: PostgresConnection? = lock.withLock {
            isStopped = true
            defer { listener = nil }
            return listener
        }
        poller?.cancel()
        if let connection { connection.close().whenComplete { _ in _ = connection } }
    }

    func record(_ events: [RecordedEvent], in session: StorageSession) throws -> [HubEvent]? {
        guard !events.isEmpty else { return nil }
        // The engine that made this journal made the session: an event is never dropped silently.
        let session = session as! PostgresSession
        var binds = PostgresBindings(capacity: 4)
        binds.append(events.map(\.type))
        binds.append(events.map(\.frame))
        binds.append(Int64(Date().timeIntervalSince1970 * 1000))
        binds.append(channel)
        // One round trip: number (under the write lock), insert, and notify at commit.
        let result = try session.native(PostgresQuery(unsafeSQL: """
            WITH inserted AS (
                INSERT INTO host_events (id, type, frame, created_ms)
                SELECT base.id + e.ord, e.type, e.frame, $3
                FROM (SELECT COALESCE(MAX(id), 0) AS id FROM host_events) AS base,
                     unnest($1::text[], $2::text[]) WITH ORDINALITY AS e(type, frame, ord)
                RETURNING id
            )
            SELECT MAX(id) AS last, pg_notify($4, MAX(id)::text)::text AS notified FROM inserted
            """, binds: binds))
        guard let last = try result.rows.first?.makeRandomAccess()[0].decode(Int64.self) else { return nil }
        let prune = lock.withLock {
            recordedSincePrune += events.count
            guard recordedSincePrune >= 512 else { return false }
            recordedSincePrune = 0
            return true
        }
        if prune {
            var cutoff = PostgresBindings()
            cutoff.append(last - Int64(retention))
            _ = try session.native(PostgresQuery(unsafeSQL: "DELETE FROM host_events WHERE id <= $1", binds: cutoff))
        }
        let first = UInt64(last) - UInt64(events.count) + 1
        return events.enumerated().map { HubEvent(id: first + UInt64($0.offset), type: $0.element.type, frame: $0.element.frame) }
    }

    func publish(_ committed: [HubEvent]) async {
        guard let first = committed.first, let last = committed.last else { return }
        // Nothing committed between what the hub has and this batch: no need to read it back.
        if hub.lastEventID + 1 == first.id {
            committed.forEach { hub.publish(recorded: $0) }
        }
        await catchUp(through: last.id)
    }

    func catchUp(through id: UInt64?) async {
        // Concurrent catch-ups may read the same stretch: the hub publishes each id once.
        while id.map({ hub.lastEventID < $0 }) ?? true {
            let after = Int64(hub.lastEventID)
            do {
                let rows = try await engine.read { session in
                    var binds = PostgresBindings()
                    binds.append(after)
                    return try (session as! PostgresSession).native(PostgresQuery(
                        unsafeSQL: "SELECT id, type, frame FROM host_events WHERE id > $1 ORDER BY id LIMIT 2000", binds: binds)).rows
                }
                publish(rows)
                if rows.count < 2000 { return }
            } catch is CancellationError {
                return // the runtime is shutting down
            } catch {
                logger.warning("could not read the event journal", metadata: ["error": .string(String(reflecting: error))])
                return
            }
        }
    }

    private func publish(_ rows: [PostgresRow]) {
        for row in rows {
            let columns = row.makeRandomAccess()
            guard let id = try? columns[0].decode(Int64.self), let type = try? columns[1].decode(String.self),
                  let frame = try? columns[2].decode(String.self) else { continue }
            hub.publish(recorded: HubEvent(id: UInt64(id), type: type, frame: frame))
        }
    }

    /// (Re)opens the listening connection when it is missing or closed.
    private func listenIfNeeded() async {
        let current = lock.withLock { isStopped ? nil : listener }
        if let current, !current.isClosed { return }
        if lock.withLock({ isStopped }) { return }
        do {
            let connection = try await engine.openConnection()
            connection.addListener(channel: channel) { [weak self] _, notification in
                let id = UInt64(notification.payload)
                Task { await self?.catchUp(through: id) }
            }
            _ = try await connection.query(PostgresQuery(unsafeSQL: "LISTEN \"\(channel)\""), logger: logger).get()
            let stale: PostgresConnection? = lock.withLock {
                if isStopped { return connection }
                listener = connection
                return nil
            }
            if let stale { try? await stale.close() }
        } catch {
            logger.warning("could not listen for other replicas' events; polling", metadata: ["error": .string(String(reflecting: error))])
        }
    }
}
