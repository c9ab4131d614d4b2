import Foundation
import StelltronPluginKit

/// A plugin that exists to exercise the host through the real ABI: writes and rollbacks, read
/// snapshots, services with savepoints, events after commit, event delivery, config, ticks.
final class ProbePlugin: StelltronPlugin {
    static let manifest = PluginManifest(
        id: "probe",
        version: "1.0.0",
        description: "test fixture",
        routes: [
            Route(.post, "/api/v1/probe/increment", access: .public, mode: .write),
            Route(.get, "/api/v1/probe/counters/:name", access: .public, mode: .read),
            Route(.get, "/api/v1/probe/echo/:item", access: .public, mode: .read),
            Route(.post, "/api/v1/probe/whoami", access: .protected, mode: .write),
            Route(.get, "/api/v1/probe/write-on-read", access: .public, mode: .read),
            Route(.get, "/api/v1/probe/emit-on-read", access: .public, mode: .read),
            Route(.post, "/api/v1/probe/crash", access: .public, mode: .write),
            Route(.post, "/api/v1/probe/service-then-continue", access: .public, mode: .write),
            Route(.get, "/api/v1/probe/call/:service", access: .public, mode: .read),
            Route(.post, "/api/v1/probe/sql", access: .public, mode: .write),
            Route(.get, "/api/v1/probe/hook/:x", access: .public, mode: .read),
            Route(.get, "/api/v1/probe/hook-later", access: .public, mode: .read),
            Route(.get, "/api/v1/probe/thread/:sleep_ms", access: .public, mode: .read),
            Route(.get, "/api/v1/probe/busy/:busy_ms", access: .public, mode: .read),
            Route(.post, "/api/v1/probe/cells", access: .public, mode: .write),
        ],
        services: [
            Service("probe.add", writes: true, summary: "add to a counter; fails when asked"),
            Service("probe.get", writes: false),
            Service("probe.echo", writes: false, summary: "answers the request unchanged (ABI benchmarks)"),
        ],
        migrations: [
            Migration("001_counters", "CREATE TABLE probe_counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)"),
            Migration("002_seen", "CREATE TABLE probe_seen (id INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT NOT NULL, payload TEXT NOT NULL)"),
            Migration("003_cells", "CREATE TABLE probe_cells (id INTEGER PRIMARY KEY AUTOINCREMENT, i INTEGER, r REAL, t TEXT)"),
        ],
        subscriptions: ["probe.incremented"],
        hookPoints: [.init("probe.factor", signature: "double(double)", summary: "scales the hook route's number")],
        tickIntervalMilliseconds: 3_600_000
    )

    typealias Factor = @convention(c) (Double) -> Double

    let greeting: String
    /// Bound once, at create, when plugins.conf binds `probe.factor`.
    let factor: Factor?

    init(config: JSONValue, host: PluginHost) throws {
        greeting = try host.config("greeting")?.stringValue ?? config["greeting"]?.stringValue ?? "none"
        factor = try host.hookFunction("probe.factor", as: Factor.self)
    }

    struct Increment: Codable {
        var name: String
        var by: Int64
        var fail_after_write: Bool?
    }

    struct Counter: Codable {
        let name: String
        let value: Int64
    }

    func handle(_ request: PluginRequest, host: PluginHost) throws -> PluginResponse {
        switch request.route {
        case "/api/v1/probe/increment":
            let input = try request.decode(Increment.self)
            let counter = try add(input, host: host)
            if input.fail_after_write == true {
                return .error("asked to fail after writing", status: 400)
            }
            return try .json(counter, status: 201)
        case "/api/v1/probe/counters/:name":
            let name = request.pathParameters["name"] ?? ""
            guard let counter = try host.query(Counter.self, "SELECT name, value FROM probe_counters WHERE name = ?", [.text(name)]).first else {
                throw PluginError.notFound("no counter \(name)")
            }
            let seen = try host.query("SELECT COUNT(*) AS n FROM probe_seen WHERE type = 'probe.incremented'").first?["n"]?.int64Value ?? 0
            return try .json(["name": .string(counter.name), "value": .int(counter.value), "seen_events": .int(seen)] as [String: JSONValue])
        case "/api/v1/probe/echo/:item":
            return try .json([
                "method": request.method, "path": request.path, "route": request.route,
                "item": request.pathParameters["item"] ?? "", "query_q": request.query["q"] ?? "",
                "header_x_probe": request.headers["x-probe"] ?? "", "client_ip": request.clientIP,
                "header_authorization": request.headers["authorization"] ?? "", "header_cookie": request.headers["cookie"] ?? "",
                "request_id": request.requestID, "greeting": greeting,
                "now_ms": String(Int64(host.now().timeIntervalSince1970 * 1000)),
                "random_hex": try host.randomBytes(8).map { String(format: "%02x", $0) }.joined(),
            ])
        case "/api/v1/probe/thread/:sleep_ms", "/api/v1/probe/busy/:busy_ms":
            // Which thread the read ran on (event loops are named "NIO-…"), after sleeping in it
            // or keeping its thread busy for that long.
            let sleep = min(Int(request.pathParameters["sleep_ms"] ?? "0") ?? 0, 1000)
            let busy = min(Int(request.pathParameters["busy_ms"] ?? "0") ?? 0, 1000)
            _ = try host.query("SELECT COUNT(*) AS n FROM probe_counters")
            if sleep > 0 { usleep(useconds_t(sleep * 1000)) }
            if busy > 0 { Self.spin(milliseconds: busy) }
            // Linux names threads in /proc (pthread_getname_np is not in Swift's Glibc module).
            let name = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? "?"
            return try .json(["thread": name.trimmingCharacters(in: .whitespacesAndNewlines)])
        case "/api/v1/probe/cells":
            // Stores one row through the typed calls (ABI 1.3), then reads every row three ways:
            // typed, through the JSON call, and decoded. The kit promises the first two equal.
            struct Cell: Codable {
                let i: Int64?
                let r: Double?
                let t: String?
            }
            let input = try request.decode(Cell.self)
            let stored = try host.execute("INSERT INTO probe_cells (i, r, t) VALUES (?, ?, ?)",
                                          [input.i.map(SQLParameter.int) ?? .null, input.r.map(SQLParameter.double) ?? .null, input.t.map(SQLParameter.text) ?? .null])
            let select = "SELECT i, r, t FROM probe_cells ORDER BY id"
            let typed = JSONValue.array(try host.query(select).map(JSONValue.object))
            let json = try JSONValue.parse(try host.queryJSON(select))
            let decoded = try host.query(Cell.self, select)
            return try .json(["changes": .int(Int64(stored.changes)), "same": .bool(typed == json), "typed": typed, "json": json,
                              "decoded": JSONCoding.value(of: decoded)] as [String: JSONValue])
        case "/api/v1/probe/whoami":
            let user = try request.requireUser()
            return try .json(["id": user.id, "role": user.role])
        case "/api/v1/probe/write-on-read":
            do {
                try host.execute("INSERT INTO probe_counters (name, value) VALUES ('sneaky', 1)")
                return try .json(["wrote": true])
            } catch let error as PluginError {
                return try .json(["kind": "\(error.kind)", "message": error.message])
            }
        case "/api/v1/probe/emit-on-read":
            do {
                try host.emit("probe.incremented", Counter(name: "sneaky", value: 1))
                return try .json(["emitted": true])
            } catch let error as PluginError {
                return try .json(["kind": "\(error.kind)", "message": error.message])
            }
        case "/api/v1/probe/hook/:x":
            let x = Double(request.pathParameters["x"] ?? "") ?? 0
            guard let factor else { return try .json(["bound": false]) }
            return try .json(["bound": .bool(true), "value": .double(factor(x))] as [String: JSONValue])
        case "/api/v1/probe/hook-later":
            // Hooks are handed out at create only; asking during a request is refused.
            do {
                _ = try host.hookFunction("probe.factor", as: Factor.self)
                return try .json(["kind": "none"])
            } catch let error as PluginError {
                return try .json(["kind": "\(error.kind)", "message": error.message])
            }
        case "/api/v1/probe/crash":
            try host.execute("INSERT INTO probe_counters (name, value) VALUES ('crash', 1)")
            throw CocoaError(.featureUnsupported)
        case "/api/v1/probe/service-then-continue":
            // The service writes, then fails; its savepoint must undo its write while ours stays.
            _ = try add(Increment(name: "outer", by: 1), host: host)
            do {
                _ = try host.call("probe.add", Increment(name: "inner", by: 1, fail_after_write: true), as: Counter.self)
            } catch let error as PluginError {
                return try .json(["service_error": error.message])
            }
            return try .json(["service_error": ""])
        case "/api/v1/probe/sql":
            struct Statement: Decodable { let sql: String }
            do {
                try host.execute(try request.decode(Statement.self).sql)
                return try .json(["ran": true])
            } catch let error as PluginError {
                return try .json(["kind": "\(error.kind)", "message": error.message])
            }
        case "/api/v1/probe/call/:service":
            let name = request.pathParameters["service"] ?? ""
            do {
                let answer = try host.callRaw(name, Data(#"{"name":"x","by":1}"#.utf8))
                return PluginResponse(status: 200, body: answer)
            } catch let error as PluginError {
                return try .json(["kind": "\(error.kind)", "message": error.message])
            }
        default:
            throw PluginError.notFound("no route \(request.route)")
        }
    }

    func callService(_ name: String, request: Data, host: PluginHost) throws -> Data {
        if name == "probe.echo" { return request }
        let input = try JSONCoding.decodeBody(Increment.self, from: request)
        switch name {
        case "probe.add":
            let counter = try add(input, host: host)
            if input.fail_after_write == true { throw PluginError.conflict("probe.add asked to fail") }
            return try JSONCoding.encode(counter)
        case "probe.get":
            let rows = try host.query(Counter.self, "SELECT name, value FROM probe_counters WHERE name = ?", [.text(input.name)])
            return try JSONCoding.encode(rows.first ?? Counter(name: input.name, value: 0))
        default:
            throw PluginError(.unknownService, "no service \(name)")
        }
    }

    func onEvent(type: String, payload: Data, host: PluginHost) throws {
        try host.execute("INSERT INTO probe_seen (type, payload) VALUES (?, ?)", [.text(type), .text(String(decoding: payload, as: UTF8.self))])
    }

    func tick(host: PluginHost) throws {
        _ = try add(Increment(name: "ticks", by: 1), host: host)
    }

    private func add(_ input: Increment, host: PluginHost) throws -> Counter {
        guard !input.name.isEmpty else { throw PluginError.badRequest("name must not be empty") }
        try host.execute(
            "INSERT INTO probe_counters (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = probe_counters.value + excluded.value",
            [.text(input.name), .int(input.by)])
        let counter = try host.query(Counter.self, "SELECT name, value FROM probe_counters WHERE name = ?", [.text(input.name)])[0]
        try host.emit("probe.incremented", counter)
        return counter
    }

    /// Keeps the calling thread on the CPU for `milliseconds` of its own CPU time.
    private static func spin(milliseconds: Int) {
        func cpuNanoseconds() -> Int {
            var time = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
            return time.tv_sec * 1_000_000_000 + time.tv_nsec
        }
        let end = cpuNanoseconds() + milliseconds * 1_000_000
        while cpuNanoseconds() < end {}
    }
}

@_cdecl("stl_plugin_entry")
public func stl_plugin_entry(_ hostABIMajor: UInt32, _ hostABIMinor: UInt32) -> UnsafeRawPointer? {
    exportPlugin(ProbePlugin.self, hostABIMajor: hostABIMajor)
}
