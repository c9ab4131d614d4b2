/// One route the host serves itself. The table below is the only list of them: the registry
/// refuses plugins that claim one, the OpenAPI document describes them, and the HTTP layer mounts
/// its handler on each entry (and answers their other methods with 405).
public struct HostRoute: Sendable, Hashable {
    public let method: String
    public let path: String
    public let summary: String
    public let isProtected: Bool
    /// Required string fields of the JSON request body, for the OpenAPI document; nil for none.
    public let requestFields: [String]?
    /// Part of the JSON API (listed in the OpenAPI document); the console's page and files are not.
    public var isAPI = true

    /// `"GET /health"`: how the registry keys routes.
    public var key: String { "\(method) \(path)" }
}

extension HostRoute {
    public static let health = HostRoute(method: "GET", path: "/health", summary: "Liveness and the loaded plugins", isProtected: false, requestFields: nil)
    public static let openAPI = HostRoute(method: "GET", path: "/openapi.json", summary: "This document", isProtected: false, requestFields: nil)
    public static let events = HostRoute(method: "GET", path: "/iot/events", summary: "Server-Sent Events stream of committed events",
                                         isProtected: false, requestFields: nil)
    public static let marketFeed = HostRoute(method: "GET", path: "/ws/market", summary: "WebSocket feed of market events (Upgrade required)",
                                             isProtected: false, requestFields: nil)
    public static let challenge = HostRoute(method: "POST", path: "/api/v1/auth/challenge", summary: "A one-time sign-in message",
                                            isProtected: false, requestFields: ["wallet_address"])
    public static let signup = HostRoute(method: "POST", path: "/api/v1/auth/signup", summary: "Register with a wallet signature",
                                         isProtected: false, requestFields: ["wallet_address", "signature"])
    public static let login = HostRoute(method: "POST", path: "/api/v1/auth/login", summary: "Access and refresh tokens for a wallet signature",
                                        isProtected: false, requestFields: ["wallet_address", "signature"])
    public static let refresh = HostRoute(method: "POST", path: "/api/v1/auth/refresh", summary: "Rotate a refresh token",
                                          isProtected: false, requestFields: ["refresh_token"])
    public static let me = HostRoute(method: "GET", path: "/api/v1/auth/me", summary: "The signed-in user", isProtected: true, requestFields: nil)

    public static let console = page("/console", "The operator's console (HTML)")
    public static let consoleStyle = page("/console/console.css", "The console's style sheet")
    public static let consoleScript = page("/console/console.js", "The console's script")

    private static func page(_ path: String, _ summary: String) -> HostRoute {
        var route = HostRoute(method: "GET", path: path, summary: summary, isProtected: false, requestFields: nil)
        route.isAPI = false
        return route
    }

    /// Every route the host serves itself, in the order the OpenAPI document lists them.
    public static let all: [HostRoute] = [health, openAPI, events, marketFeed, challenge, signup, login, refresh, me,
                                          console, consoleStyle, consoleScript]
}
