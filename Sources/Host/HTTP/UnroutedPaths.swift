import Hummingbird

/// The paths no route of the router matches, whatever the method: the router answers them 404
/// (`JSONErrorMiddleware`'s "not found"), and so may the event loop (`InlineRequests`).
///
/// Why: an unknown path went through the router's task and middleware at twice the CPU of
/// `/health` (48 µs against 22; BENCHMARKS.md, issue 16, fifteenth session) — what a scanner
/// probing for paths costs the host.
///
/// Decided with the trie's own element matching (`RouterPath.Element ~=`), for ASCII paths that
/// start with `/` and have no empty segment (the trie skips those), against every route the
/// router holds; a router with a recursive wildcard (`**`, any number of segments) decides none.
public struct UnroutedPaths: Sendable {
    /// The router's patterns by segment count; nil when one of them may span segments.
    private let patterns: [Int: [RouterPath]]?

    /// `routes`: every path the router holds (`Router.routes`).
    public init(_ routes: [RouterPath]) {
        let spanning = routes.contains { $0.components.contains { $0.description == "**" } }
        patterns = spanning ? nil : Dictionary(grouping: routes, by: \.components.count)
    }

    private init(undecided: Void) {
        patterns = nil
    }

    /// Before the router's routes are known: every path is the router's.
    public static let undecided = UnroutedPaths(undecided: ())

    /// Whether the router would answer `path` 404 for every method; false when it may not, or
    /// when this cannot tell.
    public func nothingMatches(_ path: String) -> Bool {
        // ASCII only: a non-ASCII segment may equal a constant under Unicode's canonical
        // equivalence (the trie compares as `String`s) and graphemes may span a `/`.
        guard let patterns, path.utf8.allSatisfy({ $0 < 0x80 }), let segments = PluginRouteTable.segments(of: path) else { return false }
        guard let candidates = patterns[segments.count] else { return true }
        return !candidates.contains { pattern in zip(pattern.components, segments).allSatisfy { $0 ~= $1 } }
    }
}
