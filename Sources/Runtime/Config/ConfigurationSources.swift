import Foundation
import StelltronPluginKit
import TOMLKit

/// Where a configuration comes from, and the one rule that combines them: for every key of
/// `ConfigurationKey.all`, a command-line option beats an environment variable, which beats
/// plugins.conf, which beats the default. A refused value names its source: `--port`,
/// `STELLTRON_PORT`, or `plugins.conf:4`. A key plugins.conf does not know is refused with its line.
public struct ConfigurationSources: Sendable {
    /// The plugins.conf file; nil for defaults only.
    public var file: String?
    public var environment: [String: String]
    /// Command-line options by `ConfigurationKey.option` (`"port": "9090"`).
    public var options: [String: String]

    public init(file: String? = nil, environment: [String: String] = [:], options: [String: String] = [:]) {
        self.file = file
        self.environment = environment
        self.options = options
    }

    /// Reads the file and resolves every key.
    public func resolve() throws -> HostConfiguration {
        guard let file else { return try Self.resolve(text: nil, name: "plugins.conf", environment: environment, options: options) }
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw ConfigurationError(file: file, message: "cannot read the file")
        }
        var configuration = try Self.resolve(text: text, name: file, environment: environment, options: options)
        configuration.sourcePath = file
        return configuration
    }

    static func resolve(text: String?, name: String, environment: [String: String], options: [String: String]) throws -> HostConfiguration {
        let document = try text.map { try ConfigurationFile(text: $0, name: name) }
        try document?.refuseUnknownKeys()
        var configuration = HostConfiguration()
        for key in ConfigurationKey.all {
            let value: JSONValue
            let source: String
            if let option = key.option, let text = options[option] {
                (value, source) = (key.kind.value(ofText: text) ?? .string(text), "--\(option)")
            } else if let text = environment[key.environment], !text.isEmpty {
                (value, source) = (key.kind.value(ofText: text) ?? .string(text), key.environment)
            } else if let document, let found = document.value(key.section, key.name) {
                (value, source) = (found, document.place(ofKey: key.name, in: key.section))
            } else {
                continue
            }
            if let problem = key.apply(&configuration, value) {
                throw ConfigurationError(file: source, message: "\(key.path) \(problem)")
            }
        }
        if configuration.connections.idleTimeoutSeconds <= configuration.sseKeepAliveSeconds {
            throw ConfigurationError(file: name, message: "host.idle_timeout_seconds must be longer than sse_keepalive_seconds, or idle event streams are closed")
        }
        if let document {
            configuration.plugins = try document.plugins()
            configuration.slots = try document.slots()
            configuration.hooks = try document.hooks()
        }
        return configuration
    }
}

extension HostConfiguration {
    /// Reads and validates a plugins.conf file alone (no environment, no options).
    public static func load(path: String) throws -> HostConfiguration {
        try ConfigurationSources(file: path).resolve()
    }

    /// Parses plugins.conf text alone. `file` only names the source in errors.
    public static func parse(_ text: String, file: String = "plugins.conf") throws -> HostConfiguration {
        try ConfigurationSources.resolve(text: text, name: file, environment: [:], options: [:])
    }
}

/// plugins.conf as the kit's `JSONValue`, with the lines of its keys.
struct ConfigurationFile {
    static let tables: Set<String> = ["host", "auth", "plugin", "hooks", "slots"]
    static let pluginKeys: Set<String> = ["id", "library", "config"]

    let name: String
    let root: [String: JSONValue]
    let lines: TOMLLines

    init(text: String, name: String) throws {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigurationError(file: name, message: "TOML syntax error at line \(error.source.begin.line), column \(error.source.begin.column): \(error.description)")
        }
        guard case .object(let root) = try JSONValue.parse(table.convert(to: .json)) else {
            throw ConfigurationError(file: name, message: "not a TOML table")
        }
        self.name = name
        self.root = root
        lines = TOMLLines(text)
    }

    func value(_ section: String, _ key: String) -> JSONValue? {
        root[section]?[key]
    }

    /// `plugins.conf:12`, or the file alone when the line cannot be found.
    func place(ofKey key: String, in table: String, occurrence: Int = 0) -> String {
        lines.line(ofKey: key, in: table, occurrence: occurrence).map { "\(name):\($0)" } ?? name
    }

    /// A typo is an error, not a silently ignored setting.
    func refuseUnknownKeys() throws {
        for (table, value) in root.sorted(by: { $0.key < $1.key }) {
            guard Self.tables.contains(table) else {
                let place = lines.line(ofTable: table).map { "\(name):\($0)" } ?? place(ofKey: table, in: "")
                throw ConfigurationError(file: place, message: "unknown table or key '\(table)'\(Self.suggestion(table, Self.tables))")
            }
            guard table == "host" || table == "auth", case .object(let members) = value else { continue }
            let known = Set(ConfigurationKey.all.filter { $0.section == table }.map(\.name))
            for key in members.keys.sorted() where !known.contains(key) {
                throw ConfigurationError(file: place(ofKey: key, in: table),
                                         message: "unknown key '\(key)' in [\(table)]\(Self.suggestion(key, known))")
            }
        }
        for (index, entry) in entries().enumerated() {
            for key in entry.keys.sorted() where !Self.pluginKeys.contains(key) {
                throw ConfigurationError(file: place(ofKey: key, in: "plugin", occurrence: index),
                                         message: "unknown key '\(key)' in [[plugin]]\(Self.suggestion(key, Self.pluginKeys))")
            }
        }
    }

    private func entries() -> [[String: JSONValue]] {
        guard case .array(let items) = root["plugin"] else { return [] }
        return items.compactMap { if case .object(let entry) = $0 { return entry } else { return nil } }
    }

    func plugins() throws -> [HostConfiguration.PluginEntry] {
        if let plugin = root["plugin"], case .object = plugin {
            throw ConfigurationError(file: name, message: "plugins are listed as [[plugin]] (an array of tables), not [plugin]")
        }
        var seen = Set<String>()
        return try entries().enumerated().map { index, entry in
            guard let id = entry["id"]?.stringValue, let library = entry["library"]?.stringValue, !id.isEmpty, !library.isEmpty else {
                throw ConfigurationError(file: lines.line(ofTable: "plugin").map { "\(name):\($0)" } ?? name,
                                         message: "every [[plugin]] needs a non-empty id and library (entry \(index + 1))")
            }
            guard seen.insert(id).inserted else {
                throw ConfigurationError(file: place(ofKey: "id", in: "plugin", occurrence: index), message: "plugin '\(id)' is listed twice")
            }
            var config: [String: JSONValue] = [:]
            if let table = entry["config"] {
                guard case .object(let members) = table else {
                    throw ConfigurationError(file: place(ofKey: "config", in: "plugin", occurrence: index), message: "plugin '\(id)': config must be a table")
                }
                config = members
            }
            return .init(id: id, library: library, config: config)
        }
    }

    func slots() throws -> [String: String] {
        guard let table = root["slots"] else { return [:] }
        guard case .object(let members) = table else { throw ConfigurationError(file: name, message: "[slots] must be a table") }
        return try members.mapValues { value in
            guard let plugin = value.stringValue else { throw ConfigurationError(file: name, message: "[slots] values are plugin ids (strings)") }
            return plugin
        }
    }

    func hooks() throws -> [HookBinding] {
        guard let table = root["hooks"] else { return [] }
        guard case .object(let members) = table else { throw ConfigurationError(file: name, message: "[hooks] must be a table") }
        return try bindings(members, prefix: "").sorted { $0.name < $1.name }
    }

    /// Flattens `[hooks]`: a table holding `library` is one binding, named by its dotted path
    /// (`pricing.f_time = {...}` is, in TOML, the table `pricing` holding `f_time`).
    private func bindings(_ table: [String: JSONValue], prefix: String) throws -> [HookBinding] {
        var bindings: [HookBinding] = []
        for (key, value) in table {
            let hook = prefix.isEmpty ? key : "\(prefix).\(key)"
            let place = place(ofKey: prefix.isEmpty ? key : String(prefix.prefix { $0 != "." }), in: "hooks")
            guard case .object(let entry) = value else {
                throw ConfigurationError(file: place, message: "hooks.\(hook) must be a table with library, symbol and signature")
            }
            guard entry["library"] != nil else {
                bindings += try self.bindings(entry, prefix: hook)
                continue
            }
            guard let library = entry["library"]?.stringValue, let symbol = entry["symbol"]?.stringValue,
                  let signature = entry["signature"]?.stringValue, !library.isEmpty, !symbol.isEmpty else {
                throw ConfigurationError(file: place, message: "hooks.\(hook) needs library, symbol and signature (strings)")
            }
            bindings.append(HookBinding(name: hook, library: library, symbol: symbol, signature: signature))
        }
        return bindings
    }

    /// ` (did you mean 'rate_limit_per_minute'?)` for a key one or two edits away from a known one.
    static func suggestion(_ key: String, _ known: Set<String>) -> String {
        let scored = known.map { ($0, distance(key, $0)) }.filter { $0.1 <= 2 }.sorted { ($0.1, $0.0) < ($1.1, $1.0) }
        return scored.first.map { " (did you mean '\($0.0)'?)" } ?? ""
    }

    /// Edit distance counting a swap of two neighbours as one edit (`hots` is one from `host`).
    private static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var table = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { table[i][0] = i }
        for j in 0...b.count { table[0][j] = j }
        for i in stride(from: 1, through: a.count, by: 1) {
            for j in stride(from: 1, through: b.count, by: 1) {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    table[i][j] = min(table[i][j], table[i - 2][j - 2] + 1)
                }
            }
        }
        return table[a.count][b.count]
    }
}
