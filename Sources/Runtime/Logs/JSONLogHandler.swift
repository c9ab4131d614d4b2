import Foundation
import Logging
import StelltronPluginKit

/// `LOG_FORMAT=json`: one JSON object per line on standard error — `timestamp`, `level`, `label`,
/// `message` and every metadata key (request id, route, status, duration, client, plugin) — for a
/// log shipper. Plain text stays the default.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String
    // One line per write call, so that concurrent loggers never interleave within a line.
    private static let output = FileHandle.standardError
    private static let lock = NSLock()

    public init(label: String) {
        self.label = label
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [String: JSONValue] = [
            "timestamp": .string(Date().formatted(.iso8601)), "level": .string(event.level.rawValue),
            "label": .string(label), "message": .string(event.message.description),
        ]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) {
            fields[key] = Self.json(value)
        }
        var line = JSONValue.object(fields).jsonData
        line.append(UInt8(ascii: "\n"))
        Self.lock.withLock { Self.output.write(line) }
    }

    static func json(_ value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case .string(let text): return .string(text)
        case .stringConvertible(let convertible): return .string(convertible.description)
        case .array(let values): return .array(values.map(json))
        case .dictionary(let entries): return .object(entries.mapValues(json))
        }
    }
}
