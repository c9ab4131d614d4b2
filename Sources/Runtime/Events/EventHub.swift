import Foundation
import Metrics
import StelltronPluginKit

/// One published event, ready to send: `frame` is the SSE `data:` JSON,
/// `{"timestamp":...,"type":...,"payload":{...}}`, built once for every subscriber.
public struct HubEvent: Sendable, Equatable {
    public let id: UInt64
    public let type: String
    public let frame: String
}

/// Fan-out of committed events to live subscribers (SSE, WebSocket, tests).
///
/// Publishing never waits: each subscriber has a queue bounded in events and in bytes, and a
/// subscriber whose queue is full is dropped (its stream finishes) instead of stalling producers or
/// growing memory. The last `replayCapacity` events are kept for `Last-Event-ID` replay.
// Sendable: one lock guards the subscriber table, the replay ring and the id counter.
public final class EventHub: @unchecked Sendable {
    public struct Subscription: Sendable {
        public let id: UUID
        public let events: Events
    }

    /// A subscriber's events; each one read gives its bytes back to the subscriber's budget.
    public struct Events: AsyncSequence, Sendable {
        public typealias Element = HubEvent
        let stream: AsyncStream<HubEvent>
        let budget: ByteBudget

        public struct AsyncIterator: AsyncIteratorProtocol {
            var base: AsyncStream<HubEvent>.AsyncIterator
            let budget: ByteBudget

            public mutating func next() async -> HubEvent? {
                let event = await base.next()
                if let event { budget.release(event.frame.utf8.count) }
                return event
            }
        }

        public func makeAsyncIterator() -> AsyncIterator {
            AsyncIterator(base: stream.makeAsyncIterator(), budget: budget)
        }
    }

    /// The bytes queued for one subscriber and not read yet.
    final class ByteBudget: @unchecked Sendable {
        // Guards `queued`: taken by publishers, released by the subscriber's reader.
        private let lock = NSLock()
        private var queued = 0
        let limit: Int

        init(limit: Int) { self.limit = limit }

        func take(_ bytes: Int) -> Bool {
            lock.withLock {
                guard queued + bytes <= limit else { return false }
                queued += bytes
                return true
            }
        }

        func release(_ bytes: Int) {
            lock.withLock { queued = max(0, queued - bytes) }
        }
    }

    private struct Subscriber {
        let continuation: AsyncStream<HubEvent>.Continuation
        let budget: ByteBudget
    }

    private let lock = NSLock()
    private var nextID: UInt64 = 1
    private var ring: [HubEvent] = []
    private var ringStart = 0
    private var subscribers: [UUID: Subscriber] = [:]
    private var droppedCount = 0
    /// Slow subscribers dropped, for the metrics backend.
    private let droppedCounter = Counter(label: "stelltron_dropped_subscribers_total")
    private let replayCapacity: Int
    private let queueCapacity: Int
    private let queueBytes: Int

    public init(replayCapacity: Int = 1024, subscriberQueueCapacity: Int = 512, subscriberQueueBytes: Int = 1 << 20) {
        self.replayCapacity = replayCapacity
        self.queueCapacity = subscriberQueueCapacity
        self.queueBytes = subscriberQueueBytes
    }

    /// Subscribers currently attached.
    public var subscriberCount: Int { lock.withLock { subscribers.count } }

    /// Subscribers dropped so far for being too slow.
    public var droppedSubscribers: Int { lock.withLock { droppedCount } }

    /// The id of the newest event, 0 before the first.
    public var lastEventID: UInt64 { lock.withLock { nextID - 1 } }

    /// Attaches a subscriber. With `lastEventID`, the kept events after it are queued first; an id
    /// newer than any event here (the host restarted) replays everything kept.
    public func subscribe(after lastEventID: UInt64? = nil) -> Subscription {
        let id = UUID()
        return lock.withLock {
            let replay = lastEventID.map(replayEvents(after:)) ?? []
            let (stream, continuation) = AsyncStream.makeStream(
                of: HubEvent.self, bufferingPolicy: .bufferingOldest(queueCapacity + replay.count))
            // The replay may exceed the byte budget once; what follows must fit it.
            let budget = ByteBudget(limit: queueBytes)
            replay.forEach { event in
                _ = budget.take(event.frame.utf8.count)
                continuation.yield(event)
            }
            subscribers[id] = Subscriber(continuation: continuation, budget: budget)
            continuation.onTermination = { [weak self] _ in self?.remove(id) }
            return Subscription(id: id, events: Events(stream: stream, budget: budget))
        }
    }

    public func unsubscribe(_ id: UUID) {
        let subscriber = lock.withLock { subscribers.removeValue(forKey: id) }
        subscriber?.continuation.finish()
    }

    /// The SSE `data:` JSON of an event, as every subscriber receives it.
    public static func frame(type: String, payloadJSON: Data, at date: Date) -> String {
        "{\"timestamp\":\"\(Timestamp.iso8601(date))\",\"type\":\(JSONWriter.quoted(type)),\"payload\":\(String(decoding: payloadJSON, as: UTF8.self))}"
    }

    /// Publishes one event, numbered here, to every subscriber without waiting for any of them.
    @discardableResult
    public func publish(type: String, payloadJSON: Data, at date: Date) -> HubEvent {
        let frame = Self.frame(type: type, payloadJSON: payloadJSON, at: date)
        return fanOut { HubEvent(id: nextID, type: type, frame: frame) }!
    }

    /// Publishes an event numbered elsewhere — by the database several replicas share, in commit
    /// order. Ids only grow: one already published (or older) is ignored, so delivering the same
    /// stretch twice is harmless. Answers whether it was published.
    @discardableResult
    public func publish(recorded event: HubEvent) -> Bool {
        fanOut { event.id >= nextID ? event : nil } != nil
    }

    /// Numbers (through `make`, under the lock), remembers and queues one event for every subscriber.
    private func fanOut(_ make: () -> HubEvent?) -> HubEvent? {
        var slow: [AsyncStream<HubEvent>.Continuation] = []
        let event: HubEvent? = lock.withLock {
            guard let event = make() else { return nil }
            nextID = event.id + 1
            remember(event)
            let bytes = event.frame.utf8.count
            for (id, subscriber) in subscribers {
                var full = !subscriber.budget.take(bytes)
                if !full, case .dropped = subscriber.continuation.yield(event) { full = true }
                if full {
                    subscribers.removeValue(forKey: id)
                    droppedCount += 1
                    droppedCounter.increment()
                    slow.append(subscriber.continuation)
                }
            }
            return event
        }
        // Finishing outside the lock: onTermination calls back into the hub.
        slow.forEach { $0.finish() }
        return event
    }

    /// Queues a keep-alive marker (id 0) for one subscriber. Returns false when the subscriber is
    /// gone, or was just dropped because its queue is full.
    public func keepAlive(_ id: UUID) -> Bool {
        var slow: AsyncStream<HubEvent>.Continuation?
        let alive: Bool = lock.withLock {
            guard let subscriber = subscribers[id] else { return false }
            if case .dropped = subscriber.continuation.yield(HubEvent(id: 0, type: "", frame: "")) {
                subscribers.removeValue(forKey: id)
                droppedCount += 1
                droppedCounter.increment()
                slow = subscriber.continuation
                return false
            }
            return true
        }
        slow?.finish()
        return alive
    }

    private func remove(_ id: UUID) {
        _ = lock.withLock { subscribers.removeValue(forKey: id) }
    }

    private func remember(_ event: HubEvent) {
        guard replayCapacity > 0 else { return }
        if ring.count < replayCapacity {
            ring.append(event)
        } else {
            ring[ringStart] = event
            ringStart = (ringStart + 1) % replayCapacity
        }
    }

    private func replayEvents(after id: UInt64) -> [HubEvent] {
        let ordered = Array(ring[ringStart...] + ring[..<ringStart])
        if id >= nextID { return ordered }
        return ordered.filter { $0.id > id }
    }

    /// Event types are short names: `heartbeat`, `node_data`, `energy_mint`, `market.tick`.
    static func isValidType(_ type: String) -> Bool {
        guard (1...64).contains(type.utf8.count), let first = type.unicodeScalars.first, ("a"..."z").contains(first) else { return false }
        return type.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "." }
    }
}
