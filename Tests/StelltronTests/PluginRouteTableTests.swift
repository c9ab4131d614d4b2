import HTTPTypes
import Hummingbird
import StelltronHost
import Testing

/// `PluginRouteTable` finds a plugin route on the path's bytes only where Hummingbird's trie would
/// pick the same route; everything else is left to the trie (nil).
@Suite("plugin route table")
struct PluginRouteTableTests {
    static let ok: any HTTPResponder<HostRequestContext> = CallbackResponder { _, _ in Response(status: .ok) }

    private func table(_ paths: [String], methods: [HTTPRequest.Method] = [.get], otherPaths: [String] = ["/health", "/api/v1/auth/me"]) -> PluginRouteTable {
        PluginRouteTable(Dictionary(uniqueKeysWithValues: paths.map { path in
            (path, Dictionary(uniqueKeysWithValues: methods.map { ($0, Self.ok) }))
        }), otherPaths: otherPaths)
    }

    @Test func constantAndCapturedPathsAreFoundWithTheirParameters() throws {
        let routes = table(["/api/v1/market/price", "/api/v1/ledger/balance/:wallet", "/iot/nodes/:device_id"])
        let price = try #require(routes.match(.get, "/api/v1/market/price"))
        #expect(price.parameters.isEmpty)
        #expect(price.route.endpointPath == "/api/v1/market/price")
        let balance = try #require(routes.match(.get, "/api/v1/ledger/balance/GABC%20D"))
        #expect(balance.parameters["wallet"] == "GABC%20D")
        #expect(balance.route.endpointPath == "/api/v1/ledger/balance/{wallet}")
        #expect(routes.match(.get, "/iot/nodes/rpi-1")?.parameters["device_id"] == "rpi-1")
    }

    @Test func whatTheTrieDecidesFallsThrough() {
        let routes = table(["/api/v1/market/price", "/api/v1/ledger/balance/:wallet"], methods: [.get])
        // A method the plugin did not declare: the trie's 405.
        #expect(routes.match(.post, "/api/v1/market/price") == nil)
        #expect(routes.match(.delete, "/api/v1/ledger/balance/G1") == nil)
        // Empty segments, which the trie skips, and paths of another length or spelling.
        #expect(routes.match(.get, "/api/v1/market/price/") == nil)
        #expect(routes.match(.get, "//api/v1/market/price") == nil)
        #expect(routes.match(.get, "/api/v1/ledger/balance//") == nil)
        #expect(routes.match(.get, "/api/v1/ledger/balance") == nil)
        #expect(routes.match(.get, "/api/v1/ledger/balance/G1/more") == nil)
        #expect(routes.match(.get, "/API/v1/market/price") == nil)
        #expect(routes.match(.get, "api/v1/market/price") == nil)
        // Host routes are the trie's.
        #expect(routes.match(.get, "/health") == nil)
    }

    /// Two patterns one path could match (a constant beside a capture, or a host route beside a
    /// plugin's capture) are left to the trie, whose order decides between them.
    @Test func patternsAnotherRouteCouldAlsoMatchAreLeftToTheTrie() {
        let routes = table(["/shop/items/:id", "/shop/items/featured", "/shop/:section/list", "/other/:x", "/other/:x/detail"],
                           otherPaths: ["/other/fixed"])
        #expect(routes.match(.get, "/shop/items/7") == nil)
        #expect(routes.match(.get, "/shop/items/featured") == nil)
        // `/shop/items/list` would match it and `/shop/items/:id`.
        #expect(routes.match(.get, "/shop/deals/list") == nil)
        #expect(routes.match(.get, "/other/fixed") == nil)
        #expect(routes.match(.get, "/other/7") == nil)
        // No other pattern has three segments under `/other`: found.
        #expect(routes.match(.get, "/other/7/detail")?.parameters["x"] == "7")
    }

    @Test func wildcardsAndBracedCapturesAreLeftToTheTrie() {
        let routes = table(["/files/*", "/raw/{name}.json", "/api/v1/market/price"], otherPaths: ["/console/**"])
        #expect(routes.match(.get, "/files/a") == nil)
        #expect(routes.match(.get, "/raw/a.json") == nil)
        // A recursive wildcard may match any path of any length: nothing is found beside one.
        #expect(routes.match(.get, "/api/v1/market/price") == nil)
    }
}
