import CSQLiteConfig
import Foundation
import HummingbirdTesting
import StelltronHost
import StelltronTesting
import Testing

/// The host's transaction, service and event rules, driven through the real ABI with the probe
/// plugin loaded by the testing kit.
@Suite("runtime through the ABI")
struct RuntimeTests {
    private func host() throws -> PluginTestHost {
        try PluginTestHost(library: Fixtures.probeLibrary, config: ["greeting": "hello"])
    }

    private func counter(_ host: PluginTestHost, _ name: String) async throws -> Int? {
        let answer = try await host.request("GET", "/api/v1/probe/counters/\(name)")
        guard answer.status == 200 else { return nil }
        return Fixtures.json(answer.body)["value"] as? Int
    }

    @Test func writeRouteCommitsAndPublishesAfterCommit() async throws {
        let host = try host()
        let answer = try await host.request("POST", "/api/v1/probe/increment", json: #"{"name":"a","by":2}"#)
        #expect(answer.status == 201)
        #expect(try await counter(host, "a") == 2)
        let events = await host.waitForEvents(1)
        #expect(events.map(\.type) == ["probe.incremented"])
        #expect(events.first?.frame.contains(#""payload":{"name":"a","value":2}"#) == true)
    }

    @Test func errorAnswerRollsBackWritesAndEvents() async throws {
        let host = try host()
        _ = try await host.request("POST", "/api/v1/probe/increment", json: #"{"name":"a","by":1}"#)
        let failed = try await host.request("POST", "/api/v1/probe/increment", json: #"{"name":"a","by":5,"fail_after_write":true}"#)
        #expect(failed.status == 400)
        #expect(Fixtures.json(failed.body)["error"] as? String == "asked to fail after writing")
        #expect(try await counter(host, "a") == 1)
        try await Task.sleep(for: .milliseconds(50))
        #expect(host.events.count == 1)
    }

    @Test func badJSONIsA400NamingTheField() async throws {
        let host = try host()
        let wrongType = try await host.request("POST", "/api/v1/probe/increment", json: #"{"name":"a","by":"two"}"#)
        #expect(wrongType.status == 400)
        #expect(Fixtures.json(wrongType.body)["error"] as? String == "field 'by' must be an integer")
        let missing = try await host.request("POST", "/api/v1/probe/increment", json: #"{"name":"a"}"#)
        #expect(Fixtures.json(missing.body)["error"] as? String == "missing field 'by'")
        let garbage = try await host.request("POST", "/api/v1/probe/increment", json: "{nope")
        #expect(Fixtures.json(garbage.body)["error"] as? String == "invalid JSON body")
        #expect(try await counter(host, "a") == nil)
    }

    @Test func pluginFailureIsA500ThatLeaksNothingAndRollsBack() async throws {
        let host = try host()
        let answer = try await host.request("POST", "/api/v1/probe/crash", json: "{}")
        #expect(answer.status == 500)
        let message = try #require(Fixtures.json(answer.body)["error"] as? String)
        #expect(message.hasPrefix("internal error (request "))
        #expect(try await counter(host, "crash") == nil)
    }

    @Test func readRoutesCannotWrite() async throws {
        let host = try host()
        let answer = try await host.request("GET", "/api/v1/probe/write-on-read")
        #expect(answer.status == 200)
        let body = Fixtures.json(answer.body)
        #expect(body["kind"] as? String == "storage")
        #expect(try await counter(host, "sneaky") == nil)
    }

    @Test func failedServiceCallLeavesNoWritesButCallerGoesOn() async throws {
        let host = try host()
        let answer = try await host.request("POST", "/api/v1/probe/service-then-continue", json: "{}")
        #expect(answer.status == 200)
        #expect(Fixtures.json(answer.body)["service_error"] as? String == "probe.add asked to fail")
        #expect(try await counter(host, "outer") == 1)
        #expect(try await counter(host, "inner") == nil)
        // Only the outer increment's event survives the savepoint rollback.
        let events = await host.waitForEvents(1)
        try await Task.sleep(for: .milliseconds(50))
        #expect(events.count == 1)
        #expect(host.events.count == 1)
    }

    @Test func writeServiceIsRefusedFromReadRoute() async throws {
        let host = try host()
        let answer = try await host.request("GET", "/api/v1/probe/call/probe.add")
        let body = Fixtures.json(answer.body)
        #expect(body["kind"] as? String == "storage")
        #expect((body["message"] as? String)?.contains("cannot be called from a read-only route") == true)
        let read = try await host.request("GET", "/api/v1/probe/call/probe.get")
        #expect(Fixtures.json(read.body)["value"] as? Int == 0)
    }

    @Test func unknownServicesAndHostServices() async throws {
        let host = try host()
        let unknown = Fixtures.json(try await host.request("GET", "/api/v1/probe/call/ledger.mint").body)
        #expect(unknown["kind"] as? String == "unknownService")
        #expect(unknown["message"] as? String == "no loaded plugin offers service ledger.mint")
        let list = Fixtures.json(try await host.request("GET", "/api/v1/probe/call/host.plugins.list").body)
        let plugins = try #require(list["plugins"] as? [[String: Any]])
        #expect(plugins.map { $0["id"] as? String } == ["probe"])
    }

    @Test func stubServicesStandInForOtherPlugins() async throws {
        let host = try PluginTestHost(library: Fixtures.probeLibrary, stubs: [
            "ledger.balance": { request in (0, Data(#"{"echo":\#(String(decoding: request, as: UTF8.self))}"#.utf8)) },
        ])
        let answer = Fixtures.json(try await host.request("GET", "/api/v1/probe/call/ledger.balance").body)
        #expect((answer["echo"] as? [String: Any])?["name"] as? String == "x")
    }

    @Test func requestFieldsConfigClockAndRandomReachThePlugin() async throws {
        let frozen = Date(timeIntervalSince1970: 1_800_000_000)
        let host = try PluginTestHost(library: Fixtures.probeLibrary, config: ["greeting": "hola"], clock: { frozen })
        let answer = try await host.request("GET", "/api/v1/probe/echo/caf%C3%A9?q=1", headers: ["x-probe": "yes"])
        let body = Fixtures.json(answer.body)
        #expect(body["item"] as? String == "café")
        #expect(body["query_q"] as? String == "1")
        #expect(body["header_x_probe"] as? String == "yes")
        #expect(body["route"] as? String == "/api/v1/probe/echo/:item")
        #expect(body["greeting"] as? String == "hola")
        #expect(body["now_ms"] as? String == "1800000000000")
        #expect((body["random_hex"] as? String)?.count == 16)
    }

    /// The request's strings are copied for the ABI into blocks shared by several strings
    /// (`CStringArena`): whatever their sizes around a block's, each reaches the plugin whole.
    @Test func requestStringsOfEverySizeReachThePluginWhole() async throws {
        let host = try host()
        for size in [1, 300, 511, 512, 513, 1000, 1023, 1024, 1025, 5000] {
            let header = String(repeating: "h", count: size - 1) + "!", query = String(repeating: "q", count: size)
            let item = String((0..<min(size, 200)).map { Character(UnicodeScalar(UInt8(97 + $0 % 26))) })
            let answer = try await host.request("GET", "/api/v1/probe/echo/\(item)?q=\(query)", headers: ["x-probe": header])
            let body = Fixtures.json(answer.body)
            #expect(body["header_x_probe"] as? String == header, "header of \(size) bytes")
            #expect(body["query_q"] as? String == query, "query of \(size) bytes")
            #expect(body["item"] as? String == item, "path parameter of \(item.count) bytes")
            #expect(body["route"] as? String == "/api/v1/probe/echo/:item")
        }
    }

    @Test func protectedRoutesGetTheCaller() async throws {
        let host = try host()
        let anonymous = try await host.request("POST", "/api/v1/probe/whoami", json: "{}")
        #expect(anonymous.status == 401)
        let user = AuthenticatedUser(id: "GABC", role: "Donor")
        let answer = Fixtures.json(try await host.request("POST", "/api/v1/probe/whoami", json: "{}", user: user).body)
        #expect(answer["id"] as? String == "GABC")
        #expect(answer["role"] as? String == "Donor")
    }

    @Test func committedEventsReachSubscribedPlugins() async throws {
        let host = try host()
        _ = try await host.request("POST", "/api/v1/probe/increment", json: #"{"name":"e","by":1}"#)
        _ = try await host.request("POST", "/api/v1/probe/increment", json: #"{"name":"e","by":1,"fail_after_write":true}"#)
        let body = Fixtures.json(try await host.request("GET", "/api/v1/probe/counters/e").body)
        #expect(body["seen_events"] as? Int == 1)
    }

    @Test func readRoutesCannotEmitEvents() async throws {
        let host = try host()
        let answer = try await host.request("GET", "/api/v1/probe/emit-on-read")
        let body = Fixtures.json(answer.body)
        #expect(body["kind"] as? String == "storage")
        #expect((body["message"] as? String)?.contains("cannot be emitted from a read-only route") == true)
        try await Task.sleep(for: .milliseconds(50))
        #expect(host.events.isEmpty)
    }

    /// Delivery runs inside the producing transaction: no reader can ever see an increment whose
    /// event the subscriber has not recorded yet (a delivery after commit would show value > seen).
    @Test func eventDeliveryCommitsWithTheWriteThatCausedIt() async throws {
        let host = try host()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<40 {
                group.addTask { _ = try await host.request("POST", "/api/v1/probe/increment", json: #"{"name":"atomic","by":1}"#) }
            }
            group.addTask {
                for _ in 0..<200 {
                    let body = Fixtures.json(try await host.request("GET", "/api/v1/probe/counters/atomic").body)
                    if let value = body["value"] as? Int { #expect(body["seen_events"] as? Int == value) }
                }
            }
            try await group.waitForAll()
        }
        let body = Fixtures.json(try await host.request("GET", "/api/v1/probe/counters/atomic").body)
        #expect(body["value"] as? Int == 40)
        #expect(body["seen_events"] as? Int == 40)
    }

    @Test func tickRunsInATransactionAndDeliversItsEvents() async throws {
        let host = try host()
        let plugin = try #require(host.runtime.plugins.first)
        try await host.runtime.tick(plugin)
        try await host.runtime.tick(plugin)
        #expect(try await counter(host, "ticks") == 2)
        let body = Fixtures.json(try await host.request("GET", "/api/v1/probe/counters/ticks").body)
        #expect(body["seen_events"] as? Int == 2)
    }

    @Test func servicesCanBeCalledDirectly() async throws {
        let host = try host()
        let ok = try await host.callService("probe.add", json: #"{"name":"d","by":3}"#)
        #expect(ok.status == 0)
        let failed = try await host.callService("probe.add", json: #"{"name":"d","by":3,"fail_after_write":true}"#)
        #expect(failed.status == 5)
        #expect(String(decoding: failed.body, as: UTF8.self) == "probe.add asked to fail")
        #expect(try await counter(host, "d") == 3)
    }

    @Test func twoHostsLoadTheSamePluginIndependently() async throws {
        let first = try host()
        let second = try host()
        _ = try await first.request("POST", "/api/v1/probe/increment", json: #"{"name":"shared","by":7}"#)
        #expect(try await counter(first, "shared") == 7)
        #expect(try await counter(second, "shared") == nil)
        first.runtime.shutdown()
        first.runtime.shutdown() // idempotent
        _ = try await second.request("POST", "/api/v1/probe/increment", json: #"{"name":"shared","by":1}"#)
        #expect(try await counter(second, "shared") == 1)
    }

    @Test func slotServicesReachThePluginNamedInSlots() async throws {
        let a = try Fixtures.cPlugin([#"PLUGIN_ID="slota""#, "FILL_PRICING=1.5"])
        let b = try Fixtures.cPlugin([#"PLUGIN_ID="slotb""#, "FILL_PRICING=2.5"])
        let runtime = try PluginRuntime(configuration: Fixtures.configuration([
            .init(id: "probe", library: Fixtures.probeLibrary), .init(id: "slota", library: a), .init(id: "slotb", library: b),
        ], slots: ["pricing": "slotb"]))
        try await buildApplication(runtime: runtime).test(.router) { client in
            let answer = try await client.execute(uri: "/api/v1/probe/call/pricing.quote", method: .get)
            let body = Fixtures.json(Data(answer.body.readableBytesView))
            #expect(body["plugin"] as? String == "slotb")
            #expect(body["price"] as? Double == 2.5)
        }
    }

    /// A read on the calling thread (how short read routes run) is one snapshot for the whole
    /// call: a write committed in its middle shows in the next read, not in this one. A read that
    /// fails leaves its connection ready for the next.
    @Test func callingThreadReadsAreOneSnapshotAndSurviveFailures() async throws {
        let host = try host()
        let store = host.runtime.store
        let value = "SELECT value FROM probe_counters WHERE name = 'snap'"
        try await host.runtime.run("INSERT INTO probe_counters (name, value) VALUES ('snap', 1)")
        let (before, during) = try await readNow(store) { session in
            let before = try session.rows(value).first?["value"]?.int64Value
            _ = try store.writeTransactionNow { try $0.run("UPDATE probe_counters SET value = 2 WHERE name = 'snap'") }
            return (before, try session.rows(value).first?["value"]?.int64Value)
        }
        #expect(before == 1 && during == 1)

        struct Refused: Error {}
        await #expect(throws: Refused.self) {
            try await readNow(store) { session in
                _ = try session.rows(value)
                throw Refused()
            }
        }
        let after = try await readNow(store) { session in try session.rows(value).first?["value"]?.int64Value }
        #expect(after == 2)
    }

    /// SQLite keeps no memory statistics in the host's process: with them, every allocation
    /// SQLite makes takes one process-wide mutex, which the event loops' readers contend for.
    @Test func sqliteKeepsNoMemoryStatistics() async throws {
        let host = try host()
        try await host.runtime.run("INSERT INTO probe_counters (name, value) VALUES ('stats', 1)")
        _ = try await readNow(host.runtime.store) { session in try session.rows("SELECT * FROM probe_counters") }
        #expect(SQLiteProcessSettings.applied == SQLITE_OK)
        #expect(sqlite3_memory_used() == 0)
    }

    /// A statement that fails while its rows are stepped (not when it is prepared) is a storage
    /// error for that call only: the same statement, prepared once per connection, runs again.
    @Test func aQueryFailingMidwayLeavesItsStatementReusable() async throws {
        let host = try host()
        let store = host.runtime.store
        let sql = "SELECT abs(?) AS a"
        await #expect(throws: StorageFailure.self) {
            try await readNow(store) { session in try session.rows(sql, [.int(Int64.min)]) }
        }
        let rows = try await readNow(store) { session in try session.rows(sql, [.int(-5)]) }
        #expect(rows.first?["a"]?.int64Value == 5)
    }

    /// Rows reach plugins as JSON written from SQLite's own column values: every storage class,
    /// escapes, an embedded NUL kept, invalid UTF-8 repaired, blobs in base64.
    @Test(.enabled(if: TestDatabase.postgresURL == nil, "SQLite's literals and storage classes"))
    func rowsCarryEverySQLiteValueAsJSON() async throws {
        let sql = #"""
            SELECT NULL AS n, 42 AS i, -9223372036854775808 AS lo, 2.5 AS d, 100.0 AS w, 'a"b\' || char(10) AS t,
                   'x' || char(0) || 'y' AS z, X'00FF10' AS b, X'' AS e, CAST(X'C328' AS TEXT) AS bad, 'ü' AS u
            """#
        let json = try await readNow(host().runtime.store) { session in try session.query(sql, parametersJSON: Data("[]".utf8)) }
        #expect(String(decoding: json, as: UTF8.self) == #"""
            [{"n":null,"i":42,"lo":-9223372036854775808,"d":2.5,"w":100,"t":"a\"b\\\n","z":"x\u0000y","b":"AP8Q","e":"","bad":"\#u{FFFD}(","u":"ü"}]
            """#)
    }

    /// `firstText`, the host's own lookups: the first row's first column, "" for NULL, nil
    /// without a row; the statement runs again at once.
    @Test func firstTextReadsTheFirstRowOnly() async throws {
        let host = try host()
        try await host.runtime.run("INSERT INTO probe_counters (name, value) VALUES ('b', 2), ('a', 1), ('c', 3)")
        let (first, again, none, null) = try await readNow(host.runtime.store) { session in
            let sql = "SELECT name FROM probe_counters WHERE value >= CAST(? AS INTEGER) ORDER BY name"
            return (try session.firstText(sql, ["1"]), try session.firstText(sql, ["2"]), try session.firstText(sql, ["9"]),
                    try session.firstText("SELECT NULL AS n", []))
        }
        #expect(first == "a" && again == "b" && none == nil && null == "")
    }

    @Test func concurrentWritesAreSerialisedAndNoneIsLost() async throws {
        let host = try host()
        try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<50 {
                group.addTask { try await host.request("POST", "/api/v1/probe/increment", json: #"{"name":"c","by":1}"#).status }
            }
            for try await status in group { #expect(status == 201) }
        }
        #expect(try await counter(host, "c") == 50)
        #expect(await host.waitForEvents(50).count == 50)
    }

    @Test func concurrentWritesThatFailLeaveNoTraceInTheirBatch() async throws {
        // Many concurrent writers share group-commit batches; every third one fails after
        // writing. Each failure must undo only its own write and event.
        let host = try host()
        let statuses = try await withThrowingTaskGroup(of: Int.self, returning: [Int].self) { group in
            for index in 0..<90 {
                let fail = index % 3 == 0
                group.addTask {
                    try await host.request("POST", "/api/v1/probe/increment", json: #"{"name":"mixed","by":1,"fail_after_write":\#(fail)}"#).status
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(statuses.filter { $0 == 201 }.count == 60)
        #expect(statuses.filter { $0 == 400 }.count == 30)
        #expect(try await counter(host, "mixed") == 60)
        #expect(await host.waitForEvents(60).count == 60)
    }

    @Test func pluginsCannotEndTheHostsTransaction() async throws {
        let host = try host()
        for sql in ["COMMIT", "  -- a comment\n rollback", "/* x */ BEGIN IMMEDIATE", "SAVEPOINT s", "RELEASE s", "END",
                    "ATTACH DATABASE ':memory:' AS other", "vacuum", "\t\r\n\u{0B}\u{0C}CoMmIt;", "/* a */ -- b\n/**/detach other"] {
            let answer = Fixtures.json(try await host.request("POST", "/api/v1/probe/sql", json: String(decoding: try JSONSerialization.data(withJSONObject: ["sql": sql]), as: UTF8.self)).body)
            #expect(answer["kind"] as? String == "badRequest", "\(sql)")
            #expect((answer["message"] as? String)?.contains("reserved to the host") == true, "\(sql)")
        }
        let unbound = Fixtures.json(try await host.request("POST", "/api/v1/probe/sql", json: #"{"sql":"INSERT INTO probe_counters (name, value) VALUES (?, 3)"}"#).body)
        #expect(unbound["message"] as? String == "the statement has 1 parameters but 0 values were given")
        let allowed = try await host.request("POST", "/api/v1/probe/sql", json: #"{"sql":"INSERT INTO probe_counters (name, value) VALUES ('raw', 3)"}"#)
        #expect(Fixtures.json(allowed.body)["ran"] as? Bool == true)
        #expect(try await counter(host, "raw") == 3)
    }
}

/// A read on the calling thread where the engine has them (SQLite), else an ordinary read.
private func readNow<Answer>(_ store: any StorageEngine, _ body: @escaping (StorageSession) throws -> Answer) async throws -> Answer {
    store.readsRunOnCallingThread ? try store.readOnCallingThread(body) : try await store.read(body)
}
