import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import StelltronHost
import StelltronTesting
import Testing

/// The domain plugins behind the real HTTP stack on a private database, with a clock the test
/// moves, and the calls the IoT, trust and DePIN tests share. Requests go through the real router
/// without sockets (`.router`) unless a test needs them (`.live`: raw connections, streams, the
/// connection guard, client addresses).
struct DomainHost: Sendable {
    let http: any TestClientProtocol
    let runtime: PluginRuntime
    let clock: TestClock

    /// Runs `body` against a host with `plugins` (ids of the five domain plugins, in load order)
    /// and the given `[plugin.config]` JSON per plugin id.
    static func with(_ plugins: [String], config: [String: String] = [:], configure: (inout HostConfiguration) -> Void = { _ in },
                     over setup: TestingSetup = .router, _ body: @escaping @Sendable (DomainHost) async throws -> Void) async throws {
        let libraries = ["ledger": "StelltronLedger", "market": "StelltronMarket", "iot": "StelltronIoT", "defi": "StelltronDefi", "depin": "StelltronDepin"]
        let clock = TestClock()
        var configuration = Fixtures.configuration(plugins.map { id in
            .init(id: id, library: BuildProducts.library(libraries[id]!), config: Fixtures.object(config[id] ?? "{}"))
        })
        configuration.rateLimitPerMinute = 0 // the clock stands still unless a test moves it
        configure(&configuration)
        let runtime = try await Fixtures.runtimeOffThePool(configuration, clock: clock)
        try await buildApplication(runtime: runtime, port: 0).test(setup) { http in
            try await body(DomainHost(http: http, runtime: runtime, clock: clock))
        }
    }

    func post(_ uri: String, _ body: String, token: String? = nil, headers: HTTPFields = [:]) async throws -> (HTTPResponse.Status, [String: Any], Data) {
        var fields = headers
        if let token { fields[.authorization] = "Bearer \(token)" }
        let response = try await http.execute(uri: uri, method: .post, headers: fields, body: ByteBuffer(string: body))
        let data = Data(response.body.readableBytesView)
        return (response.status, Fixtures.json(data), data)
    }

    func get(_ uri: String, token: String? = nil) async throws -> (HTTPResponse.Status, Data) {
        let headers: HTTPFields = token.map { [.authorization: "Bearer \($0)"] } ?? [:]
        let response = try await http.execute(uri: uri, method: .get, headers: headers)
        return (response.status, Data(response.body.readableBytesView))
    }

    func list(_ uri: String, token: String? = nil) async throws -> [[String: Any]] {
        (try JSONSerialization.jsonObject(with: try await get(uri, token: token).1) as? [[String: Any]]) ?? []
    }

    func signIn(_ wallet: TestWallet) async throws -> String {
        _ = try await post("/api/v1/auth/signup", wallet.proof())
        return try #require(try await post("/api/v1/auth/login", wallet.proof()).1["access_token"] as? String)
    }

    /// A post signed by `device` at the host clock's now.
    func signed(_ device: TestDevice, _ uri: String, _ body: String, nonce: String = TestDevice.nonce()) async throws -> (HTTPResponse.Status, [String: Any], Data) {
        try await post(uri, body, headers: device.headers(uri, body, at: clock.now, nonce: nonce))
    }

    /// Commissions `device` as the operator's console does (`stelltron call iot.commission`).
    @discardableResult
    func commission(_ device: TestDevice, ratedKW: Double, owner: String? = nil) async throws -> [String: Any] {
        let ownerField = owner.map { #","owner_id":"\#($0)""# } ?? ""
        let request = #"{"device_id":"\#(device.id)","public_key":"\#(device.publicKey)","rated_kw":\#(ratedKW)\#(ownerField)}"#
        let (status, body) = try await runtime.callService("iot.commission", json: Data(request.utf8))
        #expect(status == 0, "\(String(decoding: body, as: UTF8.self))")
        return Fixtures.json(body)
    }

    /// Claims a commissioned `device` for the signed-in owner with the device's claim signature.
    func claim(_ device: TestDevice, owner: TestWallet, token: String) async throws -> HTTPResponse.Status {
        try await post("/api/v1/iot/device/register", #"{"device_id":"\#(device.id)","claim_signature":"\#(device.claim(by: owner.address))"}"#, token: token).0
    }

    func mint(_ account: String, lt: Int) async throws {
        #expect(try await runtime.callService("ledger.mint", json: Data(#"{"account":"\#(account)","amount_micro":\#(lt * 1_000_000),"reason":"test"}"#.utf8)).status == 0)
    }

    func balance(_ account: String) async throws -> Double {
        Fixtures.json(try await runtime.callService("ledger.balance", json: Data(#"{"account":"\#(account)"}"#.utf8)).body)["balance"] as? Double ?? -1
    }

    func totalMinted() async throws -> Double {
        Fixtures.json(try await get("/api/v1/tokens/supply").1)["total_minted"] as? Double ?? -1
    }

    func verified() async throws -> Bool {
        Fixtures.json(try await get("/api/v1/ledger/verify").1)["valid"] as? Bool == true
    }
}
