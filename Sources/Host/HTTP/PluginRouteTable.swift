import HTTPTypes
import Hummingbird

/// The plugin routes found on the path's bytes, before Hummingbird's trie sees the request
/// (`HostResponder`).
///
/// Why: the trie splits the path into `Character`s, which costs 2.2–2.5 µs more for
/// `/api/v1/ledger/balance/<56-character wallet>` than for `/health` in the whole route table,
/// where this table finds it in 0.7 µs (`stelltron-bench routing`; BENCHMARKS.md, issue 16, tenth
/// session).
///
/// Only what the trie would answer the same way is found here: a pattern of constant segments and
/// `:name` captures that no other route of the host could also match, a path without empty
/// segments, a method its plugin declared. Everything else — other methods (405), host routes,
/// paths the trie treats specially (`//`, a trailing `/`) — falls through to the trie.
public struct PluginRouteTable: Sendable {
    public typealias Responder = any HTTPResponder<HostRequestContext>
    /// The methods the host mounts on every plugin path: each served or answered with 405.
    public static let methods: [HTTPRequest.Method] = [.get, .post, .put, .patch, .delete]

    public struct Route: Sendable {
        /// `Parameters` keys, by segment: nil for a constant.
        let captures: [Substring?]
        /// The route as Hummingbird names it (`/iot/nodes/{device_id}`), for metrics and traces.
        public let endpointPath: String
        /// By method: the route's handler inside the router's middleware, as the trie holds it.
        let responders: [HTTPRequest.Method: Responder]
        /// By method: the plugin route itself, for the event loop's own answers (`InlineRequests`).
        let registered: [HTTPRequest.Method: RegisteredRoute]
    }

    /// The paths no route of the router matches, once the router holds every route (`everyRoute`).
    public private(set) var unrouted = UnroutedPaths.undecided
    /// Patterns without captures, by path.
    private var exact: [String: Route] = [:]
    /// Patterns with captures, by segment count; each pattern's constant segments as bytes.
    private var parameterized: [Int: [(constants: [[UInt8]?], route: Route)]] = [:]

    /// `responders` (and the plugin routes they serve, `registered`) by path pattern; `otherPaths`
    /// are every other pattern the trie holds.
    public init(_ responders: [String: [HTTPRequest.Method: Responder]], registered: [String: [HTTPRequest.Method: RegisteredRoute]] = [:],
                otherPaths: [String]) {
        let all = Array(responders.keys) + otherPaths
        for (path, byMethod) in responders {
            guard let segments = Self.plainSegments(path),
                  !all.contains(where: { $0 != path && Self.mayOverlap(segments, $0) }) else { continue }
            let route = Route(captures: segments.map { $0.hasPrefix(":") ? $0.dropFirst() : nil },
                              endpointPath: RouterPath(path).description, responders: byMethod, registered: registered[path] ?? [:])
            if route.captures.allSatisfy({ $0 == nil }) {
                exact[path] = route
            } else {
                let constants = segments.map { $0.hasPrefix(":") ? nil : Array($0.utf8) }
                parameterized[segments.count, default: []].append((constants, route))
            }
        }
    }

    /// This table, knowing which paths none of `routes` — every route of the router — matches.
    public func knowing(everyRoute routes: [RouterPath]) -> PluginRouteTable {
        var table = self
        table.unrouted = UnroutedPaths(routes)
        return table
    }

    /// The responder of `method` on `path` and the path's parameters, or nil for the trie to decide.
    public func match(_ method: HTTPRequest.Method, _ path: String) -> (responder: Responder, route: Route, parameters: Parameters)? {
        if let route = exact[path] {
            return route.responders[method].map { ($0, route, Parameters()) }
        }
        // Counted first: host routes and unknown paths pay nothing more here.
        guard let candidates = parameterized[Self.segmentCount(path)] else { return nil }
        // Over the path's own UTF-8 buffer: comparing segments through `String.UTF8View`'s
        // indices was most of this table's 0.8 µs for a wallet's balance (`stelltron-bench
        // routing`; BENCHMARKS.md, issue 16, sixteenth session).
        // Parameters are slices of `original` (`slice`), the same storage: no string made per capture.
        let original = path
        var path = path
        return path.withUTF8 { bytes in
            guard bytes.first == UInt8(ascii: "/") else { return nil }
            for (constants, route) in candidates {
                guard let responder = route.responders[method], Self.matches(constants, bytes) else { continue }
                var parameters = Parameters()
                var start = 1
                for key in route.captures {
                    let end = Self.segmentEnd(bytes, from: start)
                    if let key { parameters.append(key: key, value: Self.slice(original, start..<end)) }
                    start = end + 1
                }
                return (responder, route, parameters)
            }
            return nil
        }
    }

    /// Whether `path` (starting with `/`) has exactly `constants.count` segments, none empty, and
    /// each constant segment equal to its pattern's; a capture (nil) takes any segment.
    private static func matches(_ constants: [[UInt8]?], _ path: UnsafeBufferPointer<UInt8>) -> Bool {
        var start = 1
        for constant in constants {
            guard start < path.count else { return false }
            let end = segmentEnd(path, from: start)
            guard end > start else { return false }
            if let constant, !constant.elementsEqual(UnsafeBufferPointer(rebasing: path[start..<end])) { return false }
            start = end + 1
        }
        return start == path.count + 1
    }

    /// Where the segment starting at `start` ends: the next `/` or the path's end.
    private static func segmentEnd(_ path: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var end = start
        while end < path.count, path[end] != UInt8(ascii: "/") { end += 1 }
        return end
    }

    /// The segments of a pattern this table can serve: constants and `:name` captures, no
    /// wildcard, no `{…}` capture, no empty segment. Nil otherwise.
    private static func plainSegments(_ path: String) -> [Substring]? {
        guard path.hasPrefix("/") else { return nil }
        let segments = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        guard segments.allSatisfy({ !$0.isEmpty && !$0.contains("*") && !$0.contains("{") && $0 != ":" }) else { return nil }
        return segments
    }

    /// Whether the trie could route one path to both patterns: conservatively yes for any pattern
    /// that is not plain (wildcards may match any number of segments).
    private static func mayOverlap(_ segments: [Substring], _ other: String) -> Bool {
        guard let others = plainSegments(other) else { return true }
        guard others.count == segments.count else { return false }
        return zip(segments, others).allSatisfy { $0.hasPrefix(":") || $1.hasPrefix(":") || $0 == $1 }
    }

    /// How many segments `segments(of:)` would find, if it finds any.
    private static func segmentCount(_ path: String) -> Int {
        var slashes = 0
        for byte in path.utf8 where byte == UInt8(ascii: "/") { slashes += 1 }
        return slashes
    }

    /// A request path's segments, as slices of it, or nil when it has an empty one (the trie
    /// skips those) or does not start with `/`: the same scan as `match`, for `UnroutedPaths`.
    static func segments(of path: String) -> [Substring]? {
        var contiguous = path
        let ranges = contiguous.withUTF8 { bytes -> [Range<Int>]? in
            guard bytes.first == UInt8(ascii: "/") else { return nil }
            var ranges: [Range<Int>] = []
            var start = 1
            repeat {
                let end = segmentEnd(bytes, from: start)
                guard end > start else { return nil }
                ranges.append(start..<end)
                start = end + 1
            } while start <= bytes.count
            return ranges
        }
        return ranges?.map { slice(path, $0) }
    }

    /// The bytes `range` of `path` (on segment boundaries, which are ASCII), sharing its storage.
    private static func slice(_ path: String, _ range: Range<Int>) -> Substring {
        let utf8 = path.utf8
        let lower = utf8.index(utf8.startIndex, offsetBy: range.lowerBound)
        return Substring(utf8[lower..<utf8.index(lower, offsetBy: range.count)])
    }
}

/// The host's responder: the plugin routes `PluginRouteTable` finds, served as the router would
/// serve them (the route's parameters and endpoint path in the context, its handler inside the
/// router's middleware); every other request through the router.
public struct HostResponder: HTTPResponder {
    let table: PluginRouteTable
    let router: RouterResponder<HostRequestContext>

    public func respond(to request: Request, context: HostRequestContext) async throws -> Response {
        guard let (responder, route, parameters) = table.match(request.method, request.uri.path) else {
            return try await router.respond(to: request, context: context)
        }
        var context = context
        context.coreContext.parameters = parameters
        context.coreContext.endpointPath.value = route.endpointPath
        do {
            return try await responder.respond(to: request, context: context)
        } catch let error as any HTTPResponseError {
            // What `RouterResponder` does with an error no middleware turned into a response.
            return try error.response(from: request, context: context)
        }
    }
}

/// Builds `HostResponder` for `Application`, as a `Router` builds its own responder.
public struct HostRouter: HTTPResponderBuilder {
    let table: PluginRouteTable
    /// The host's routes, middleware and fallbacks for all the rest.
    public let router: Router<HostRequestContext>

    public func buildResponder() -> HostResponder {
        HostResponder(table: table, router: router.buildResponder())
    }
}
