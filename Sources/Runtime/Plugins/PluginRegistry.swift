import Foundation
import StelltronPluginKit

/// A plugin route as the HTTP layer sees it.
///
/// A class: every request passes its route through the route table, the inline stage and the
/// runtime, and a copy of the struct retained and released each of the route's strings
/// (0.4 µs of a plugin read in `perf`; BENCHMARKS.md, issue 16, sixteenth session).
public final class RegisteredRoute: Sendable {
    public let plugin: LoadedPlugin
    public let route: PluginDeclaration.Route

    init(plugin: LoadedPlugin, route: PluginDeclaration.Route) {
        self.plugin = plugin
        self.route = route
    }
}

/// The loaded plugins with their routes, services and slots, checked for conflicts: two plugins
/// claiming one route, one service or one slot are refused at load, never resolved by chance.
public struct PluginRegistry {
    /// Routes the host serves itself (`HostRoute.all`); a plugin may not claim them.
    static let hostRouteKeys: Set<String> = Set(HostRoute.all.map(\.key))

    let plugins: [LoadedPlugin]
    let routes: [RegisteredRoute]
    let services: [String: (plugin: LoadedPlugin, service: PluginDeclaration.Service)]
    /// slot name → the plugin that fills it.
    let slots: [String: LoadedPlugin]
    /// Every service name a call can reach, resolved (`ServiceTarget`).
    let serviceTargets: [String: ServiceTarget]
    /// Every declared hook point, by name, with the plugin that declared it.
    let hookPoints: [String: (plugin: LoadedPlugin, point: PluginDeclaration.HookPoint)]

    init(plugins: [LoadedPlugin], configuration: HostConfiguration) throws {
        let configFile = configuration.sourcePath ?? "plugins.conf"
        var routeOwners: [String: LoadedPlugin] = [:]
        var routes: [RegisteredRoute] = []
        var services: [String: (plugin: LoadedPlugin, service: PluginDeclaration.Service)] = [:]
        var slotClaims: [String: [LoadedPlugin]] = [:]
        var hookPoints: [String: (plugin: LoadedPlugin, point: PluginDeclaration.HookPoint)] = [:]
        var ids = Set<String>()

        for plugin in plugins {
            guard ids.insert(plugin.id).inserted else {
                throw PluginLoadError(file: plugin.file, "id '\(plugin.id)' is already used by another loaded plugin")
            }
            for route in plugin.declaration.routes {
                let key = "\(route.method) \(Self.normalized(route.path))"
                if Self.hostRouteKeys.contains(key) {
                    throw PluginLoadError(file: plugin.file, "route \(route.method) \(route.path) is served by the host itself")
                }
                if let owner = routeOwners[key] {
                    throw PluginLoadError(file: plugin.file, "route \(route.method) \(route.path) is already claimed by plugin '\(owner.id)' (\(owner.file))")
                }
                if let problem = Self.schemaProblem(route) {
                    throw PluginLoadError(file: plugin.file, "route \(route.method) \(route.path): \(problem)")
                }
                routeOwners[key] = plugin
                routes.append(RegisteredRoute(plugin: plugin, route: route))
            }
            let slotNames = Set(plugin.declaration.slots.map(\.name))
            for slot in slotNames { slotClaims[slot, default: []].append(plugin) }
            for service in plugin.declaration.services {
                // Slot services ("pricing.quote") are reached through the slot, so several plugins
                // that can fill one slot may all declare them.
                let prefix = String(service.name.prefix { $0 != "." })
                if slotNames.contains(prefix) { continue }
                if let owner = services[service.name] {
                    throw PluginLoadError(file: plugin.file, "service \(service.name) is already offered by plugin '\(owner.plugin.id)'")
                }
                services[service.name] = (plugin, service)
            }
            for point in plugin.declaration.hookPoints {
                if let owner = hookPoints[point.name] {
                    throw PluginLoadError(file: plugin.file, "hook point \(point.name) is already declared by plugin '\(owner.plugin.id)'")
                }
                hookPoints[point.name] = (plugin, point)
            }
        }

        var slots: [String: LoadedPlugin] = [:]
        for (slot, pluginID) in configuration.slots {
            guard let plugin = plugins.first(where: { $0.id == pluginID }) else {
                throw PluginLoadError(file: configFile, "[slots] \(slot) names plugin '\(pluginID)', which is not loaded")
            }
            guard plugin.declaration.slots.contains(where: { $0.name == slot }) else {
                throw PluginLoadError(file: configFile, "[slots] \(slot) names plugin '\(pluginID)', which does not declare slot \(slot)")
            }
            slots[slot] = plugin
        }
        for (slot, claimants) in slotClaims where slots[slot] == nil {
            guard claimants.count == 1 else {
                let names = claimants.map { "'\($0.id)'" }.joined(separator: " and ")
                throw PluginLoadError(file: configFile, "slot \(slot) is claimed by \(names): name one in [slots]")
            }
            slots[slot] = claimants[0]
        }
        for slot in configuration.requiredSlots where slots[slot] == nil {
            throw PluginLoadError(file: configFile, "slot \(slot) is required but no loaded plugin fills it")
        }
        // A plugin calls a slot's services in the shape of one revision: refuse a filler of another.
        for plugin in plugins {
            for use in plugin.declaration.slotUses {
                guard let filler = slots[use.name],
                      let filled = filler.declaration.slots.first(where: { $0.name == use.name }) else { continue }
                if filled.revision != use.revision {
                    throw PluginLoadError(file: filler.file, "fills \(use.name)/\(filled.revision), but plugin '\(plugin.id)' speaks \(use.name)/\(use.revision)")
                }
            }
        }

        self.plugins = plugins
        self.routes = routes
        self.services = services
        self.slots = slots
        self.hookPoints = hookPoints
        serviceTargets = ServiceTarget.table(services: services, slots: slots)
    }

    /// Why a route's declared JSON Schemas are unusable, or nil: each must be a JSON object (the
    /// OpenAPI document embeds them as they are).
    static func schemaProblem(_ route: PluginDeclaration.Route) -> String? {
        for (label, schema) in [("request", route.requestSchema), ("response", route.responseSchema)] {
            guard let schema else { continue }
            guard case .object? = try? JSONValue.parse(schema) else { return "its \(label) schema is not a JSON object" }
        }
        return nil
    }

    /// `/iot/nodes/:device_id` and `/iot/nodes/:id` are the same route.
    public static func normalized(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: false)
            .map { $0.hasPrefix(":") ? ":" : String($0) }
            .joined(separator: "/")
    }
}
