import Foundation
import Hummingbird
import HummingbirdTesting
import StelltronHost
import StelltronPluginKit
import StelltronTesting
import Testing

/// Several hosts (replicas) on one PostgreSQL database, in one process: what they share goes
/// through the database exactly as between machines. Runs when STELLTRON_TEST_DATABASE names a
/// PostgreSQL database (CI runs the suite on both engines); `scripts/replicas-test.py` does the
/// same over HTTP with three server processes behind nginx.
@Suite("replicas on one PostgreSQL database", .enabled(if: TestDatabase.postgresURL != nil))
struct ReplicaTests {
    /// `count` runtimes with the probe plugin on one fresh schema.
    private func replicas(_ count: Int, _ configure: (inout HostConfiguration) -> Void = { _ in }) throws -> [PluginRuntime] {
        var configuration = Fixtures.configuration()
        configure(&configuration)
        return try (0..<count).map { _ in try Fixtures.runtime(configuration) }
    }

    private func add(_ runtime: PluginRuntime, _ name: String, by: Int = 1) async throws {
        let (status, body) = try await runtime.callService("probe.add", json: Data(#"{"name":"\#(name)","by":\#(by)}"#.utf8))
        #expect(status == 0, "\(String(decoding: body, as: UTF8.self))")
    }

    /// The next event of a subscription, or nil after `seconds`.
    private func next(_ subscription: EventHub.Subscription, within seconds: Double = 5) async -> HubEvent? {
        await withTaskGroup(of: HubEvent?.self) { group in
            group.addTask {
                var events = subscription.events.makeAsyncIterator()
                return await events.next()
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(seconds))
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    @Test func anEventCommittedThroughOneReplicaReachesTheOtherWithTheSameID() async throws {
        let hosts = try replicas(2)
        let subscription = hosts[1].hub.subscribe()
        try await add(hosts[0], "crossing")
        let event = try #require(await next(subscription))
        #expect(event.type == "probe.incremented")
        #expect(event.frame.contains(#""name":"crossing""#))
        // The producer published it too, before its call answered, under the same global id.
        #expect(hosts[0].hub.lastEventID == event.id)
        try await add(hosts[1], "back")
        #expect(await next(subscription)?.id == event.id + 1)
    }

    @Test func aReplicaStartedLaterReplaysFromTheDatabase() async throws {
        let first = try replicas(1)[0]
        for index in 0..<3 { try await add(first, "r\(index)") }
        let later = try Fixtures.runtime(first.configuration)
        // Last-Event-ID 1 on a replica that did not exist when 1, 2 and 3 were published.
        let replay = later.hub.subscribe(after: 1)
        let second = await next(replay), third = await next(replay)
        #expect([second?.id, third?.id] == [2, 3])
        #expect(third?.frame.contains(#""name":"r2""#) == true)
    }

    @Test func replicasStartingTogetherApplyEachMigrationOnce() async throws {
        var configuration = Fixtures.configuration()
        configuration.databasePath = TestDatabase.privateLocation()
        let started = try await withThrowingTaskGroup(of: PluginRuntime.self) { group in
            for _ in 0..<4 { group.addTask { [configuration] in try Fixtures.runtime(configuration) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(started.count == 4)
        let rows = try await started[0].rows("SELECT plugin_id, migration_id FROM host_migrations")
        #expect(rows.count == Set(rows.map { "\($0["plugin_id"]?.stringValue ?? "")/\($0["migration_id"]?.stringValue ?? "")" }).count)
        #expect(rows.contains { $0["plugin_id"]?.stringValue == "probe" })
    }

    @Test func writesThroughEveryReplicaAtOnceAreSerialised() async throws {
        let hosts = try replicas(3)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<60 { group.addTask { try await add(hosts[index % 3], "shared") } }
            try await group.waitForAll()
        }
        let rows = try await hosts[0].rows("SELECT value FROM probe_counters WHERE name = 'shared'")
        #expect(rows.first?["value"]?.int64Value == 60)
    }

    @Test func theRateLimitHoldsAcrossReplicas() async throws {
        let hosts = try replicas(2) { $0.rateLimitPerMinute = 4 }
        let apps = try await hosts.asyncMap { try await buildApplication(runtime: $0, port: 0) }
        try await apps[0].test(.router) { first in
            try await apps[1].test(.router) { second in
                var statuses: [HTTPResponse.Status] = []
                for index in 0..<6 {
                    let client: any TestClientProtocol = index % 2 == 0 ? first : second
                    statuses.append(try await client.execute(uri: "/health", method: .get).status)
                }
                // Four requests a minute from one address, wherever they land.
                #expect(statuses == [.ok, .ok, .ok, .ok, .tooManyRequests, .tooManyRequests])
            }
        }
    }

    @Test func oneReplicaAtATimeHoldsThePeriodicWorkLease() async throws {
        let hosts = try replicas(2)
        let leases = try hosts.map { try #require($0.store.makePeriodicWorkLease(logger: $0.logger)) }
        #expect(await leases[0].isHeld())
        #expect(await !leases[1].isHeld())
        #expect(await leases[0].isHeld())
        leases[0].release() // the holder goes away
        var taken = false
        for _ in 0..<50 where !taken {
            taken = await leases[1].isHeld()
            if !taken { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(taken)
        #expect(await !leases[0].isHeld())
        leases[1].release()
    }

    @Test func aMigrationThatCannotBeTranslatedIsRefusedNamingIt() throws {
        let sqlite = "CREATE TABLE cfixture_things (at INTEGER); UPDATE cfixture_things SET at = strftime('%s', 'now')"
        var configuration = Fixtures.configuration([.init(id: "cfixture", library: try Fixtures.cPlugin([#"MIGRATION_SQL="\#(sqlite)""#, "MIGRATION_V1_1"]))])
        configuration.databasePath = TestDatabase.privateLocation()
        let error = #expect(throws: PluginLoadError.self) { try Fixtures.runtime(configuration) }
        #expect(error?.problem.contains("migration 001_things failed: strftime() is SQLite's") == true, "\(error?.problem ?? "")")
        #expect(error?.problem.contains("UPDATE cfixture_things SET at = strftime") == true)
    }

    @Test func aMigrationsPostgreSQLVariantIsWhatRunsThere() async throws {
        let sqlite = "CREATE TABLE cfixture_things (at INTEGER); INSERT INTO cfixture_things VALUES (strftime('%s', 'now'))"
        let postgres = "CREATE TABLE cfixture_things (at BIGINT); INSERT INTO cfixture_things VALUES (CAST(EXTRACT(EPOCH FROM now()) AS BIGINT))"
        var configuration = Fixtures.configuration([.init(id: "cfixture", library: try Fixtures.cPlugin([
            #"MIGRATION_SQL="\#(sqlite)""#, #"MIGRATION_SQL_POSTGRES="\#(postgres)""#,
        ]))])
        configuration.databasePath = TestDatabase.privateLocation()
        let runtime = try Fixtures.runtime(configuration)
        let at = try await runtime.rows("SELECT at FROM cfixture_things").first?["at"]?.int64Value ?? 0
        #expect(abs(Double(at) - Date().timeIntervalSince1970) < 60)
    }
}

extension Array {
    fileprivate func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var mapped: [T] = []
        for element in self { mapped.append(try await transform(element)) }
        return mapped
    }
}
