import Foundation

/// A Stelltron plugin written in Swift: one type conforming to this protocol, plus one line that
/// exports it (see `exportPlugin`). The type is created once per host and called from several
/// threads at once, so it keeps no mutable state of its own: state lives in storage.
public protocol StelltronPlugin: AnyObject {
    static var manifest: PluginManifest { get }

    /// Called once at load, after the plugin's migrations ran. `config` is the plugin's table
    /// from plugins.conf.
    init(config: JSONValue, host: PluginHost) throws

    /// Serves one of the declared routes. Throw `PluginError` for a 4xx; the transaction of a
    /// write route is rolled back whenever the answer's status is 400 or more.
    func handle(_ request: PluginRequest, host: PluginHost) throws -> PluginResponse

    /// Serves one of the declared services with the JSON request; answers JSON.
    func callService(_ name: String, request: Data, host: PluginHost) throws -> Data

    /// Receives a committed event of a subscribed type.
    func onEvent(type: String, payload: Data, host: PluginHost) throws

    /// Periodic work, every `manifest.tickIntervalMilliseconds`, in one write transaction.
    func tick(host: PluginHost) throws

    /// Called once when the host shuts the plugin down.
    func shutdown()
}

extension StelltronPlugin {
    public func callService(_ name: String, request: Data, host: PluginHost) throws -> Data {
        throw PluginError(.unknownService, "\(Self.manifest.id) has no service \(name)")
    }

    public func onEvent(type: String, payload: Data, host: PluginHost) throws {}

    public func tick(host: PluginHost) throws {}

    public func shutdown() {}
}
