import Foundation
import Hummingbird
import HummingbirdTesting
import StelltronHost
import StelltronTesting
import Synchronization
import Testing

/// `/iot/events` as a browser sees it, over a raw socket.
@Suite("server-sent events")
struct EventStreamTests {
    private func app(keepAlive: Double = 15) async throws -> some ApplicationProtocol {
        var configuration = Fixtures.configuration()
        configuration.sseKeepAliveSeconds = keepAlive
        return try await buildApplication(runtime: try Fixtures.runtime(configuration), port: 0)
    }

    private func increment(_ client: some TestClientProtocol, _ name: String) async throws {
        let response = try await client.execute(
            uri: "/api/v1/probe/increment", method: .post, body: ByteBuffer(string: #"{"name":"\#(name)","by":1}"#))
        #expect(response.status == .created)
    }

    @Test func framesCarryIdTimestampTypeAndPayload() async throws {
        try await app().test(.live) { client in
            let port = try #require(client.port)
            let stream = try await SSEClient(port: port)
            #expect(stream.status == 200)
            #expect(stream.headers["content-type"] == "text/event-stream")
            try await increment(client, "s")
            let message = try #require(try await stream.next())
            #expect(message.id == "1")
            let frame = Fixtures.json(Data(message.data.utf8))
            #expect(frame["type"] as? String == "probe.incremented")
            #expect((frame["payload"] as? [String: Any])?["name"] as? String == "s")
            let timestamp = try #require(frame["timestamp"] as? String)
            #expect(timestamp.hasSuffix("Z") && timestamp.count == 20)
        }
    }

    @Test func rolledBackRequestsPublishNothing() async throws {
        try await app().test(.live) { client in
            let stream = try await SSEClient(port: try #require(client.port))
            _ = try await client.execute(
                uri: "/api/v1/probe/increment", method: .post, body: ByteBuffer(string: #"{"name":"r","by":1,"fail_after_write":true}"#))
            try await increment(client, "after")
            let message = try #require(try await stream.next())
            #expect(message.data.contains(#""name":"after""#))
        }
    }

    @Test func reconnectReplaysAfterLastEventID() async throws {
        try await app().test(.live) { client in
            let port = try #require(client.port)
            for name in ["a", "b", "c"] { try await increment(client, name) }
            let stream = try await SSEClient(port: port, lastEventID: "1")
            let replayed = [try await stream.next(), try await stream.next()].compactMap { $0 }
            #expect(replayed.map(\.id) == ["2", "3"])
            try await increment(client, "d")
            #expect(try await stream.next()?.id == "4")
        }
    }

    @Test func idleStreamsGetKeepAliveComments() async throws {
        try await app(keepAlive: 0.1).test(.live) { client in
            let stream = try await SSEClient(port: try #require(client.port))
            let comments = try await stream.comments(waitingFor: "keep-alive", timeout: 5)
            #expect(comments.contains("keep-alive"))
        }
    }
}

/// The hub alone: bounded queues, slow consumers, replay bounds.
@Suite("event hub")
struct EventHubTests {
    private let payload = Data(#"{"n":1}"#.utf8)

    @Test func slowSubscriberIsDroppedWithoutStallingOthers() async throws {
        let hub = EventHub(replayCapacity: 10, subscriberQueueCapacity: 4)
        let slow = hub.subscribe()
        let fast = hub.subscribe()
        let read = Mutex(0)
        let reader = Task {
            var count = 0
            for await _ in fast.events {
                count += 1
                read.withLock { $0 = count }
                if count == 100 { break }
            }
            return count
        }
        for sent in 1...100 {
            hub.publish(type: "tick", payloadJSON: payload, at: Date())
            // The fast subscriber reads each event before the next (however loaded the machine):
            // only the one that never reads may fall behind.
            for _ in 0..<5000 where read.withLock({ $0 }) < sent { try await Task.sleep(for: .microseconds(200)) }
        }
        let received = await reader.value
        #expect(received == 100)
        #expect(hub.droppedSubscribers == 1)
        // The slow one still gets what was queued before it was cut off, then its stream ends.
        var slowCount = 0
        for await _ in slow.events { slowCount += 1 }
        #expect(slowCount == 4)
    }

    @Test func replayIsBoundedAndOrdered() async throws {
        let hub = EventHub(replayCapacity: 3, subscriberQueueCapacity: 8)
        for _ in 0..<5 { hub.publish(type: "tick", payloadJSON: payload, at: Date()) }
        var ids: [UInt64] = []
        let subscription = hub.subscribe(after: 0)
        for await event in subscription.events { ids.append(event.id); if ids.count == 3 { break } }
        #expect(ids == [3, 4, 5])
        // An id from before a restart (newer than anything here) replays what is kept.
        var restarted: [UInt64] = []
        for await event in hub.subscribe(after: 99).events { restarted.append(event.id); if restarted.count == 3 { break } }
        #expect(restarted == [3, 4, 5])
    }

    @Test func publishingNeverWaitsForSubscribers() {
        let hub = EventHub(replayCapacity: 0, subscriberQueueCapacity: 1)
        let subscriptions = (0..<1000).map { _ in hub.subscribe() }
        for _ in 0..<10 { hub.publish(type: "tick", payloadJSON: payload, at: Date()) }
        #expect(hub.droppedSubscribers == 1000)
        #expect(hub.subscriberCount == 0)
        withExtendedLifetime(subscriptions) {}
    }

    /// A subscriber that reads nothing is dropped once its queued bytes pass the budget, however
    /// few events that is; one that reads gets its budget back.
    @Test func aSubscriberQueueIsBoundedInBytes() async {
        let hub = EventHub(replayCapacity: 0, subscriberQueueCapacity: 1000, subscriberQueueBytes: 4096)
        let big = Data(#"{"blob":"\#(String(repeating: "x", count: 1000))"}"#.utf8)
        let idle = hub.subscribe(), reader = hub.subscribe()
        var iterator = reader.events.makeAsyncIterator()
        for _ in 0..<3 { hub.publish(type: "tick", payloadJSON: big, at: Date()) }
        #expect(hub.subscriberCount == 2)
        for _ in 0..<3 { _ = await iterator.next() }
        hub.publish(type: "tick", payloadJSON: big, at: Date()) // the idle one is now over 4 KiB
        #expect(hub.droppedSubscribers == 1)
        #expect(hub.subscriberCount == 1)
        withExtendedLifetime(idle) {}
    }
}
