import Foundation
import Logging
import StelltronPluginKit

/// The server's log on standard error, one line per write, in one of two formats:
/// - `text` (the default): the line swift-log's `StreamLogHandler` writes (`timestamp level label:
///   key=value … [source] message`, keys sorted);
/// - `json` (`LOG_FORMAT=json`): one JSON object per line — `timestamp`, `level`, `label`,
///   `message` and every metadata key (request id, route, status, duration, client, plugin) — for
///   a log shipper.
///
/// Metadata is kept as set and rendered only for a line written. `StreamLogHandler` renders all
/// of it again on every change, and Hummingbird sets a request id on the logger of every request:
/// 1.8 % of a price request's samples went to text nobody printed (`perf record`, wrk -t2 -c64 on
/// `/api/v1/market/price` at `LOG_LEVEL=warning`).
public struct ServerLogHandler: LogHandler {
    public enum Format: Sendable {
        case text, json
    }

    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String
    private let format: Format
    // One write call per line, so that concurrent loggers never interleave within a line.
    private static let lock = NSLock()

    public init(label: String, format: Format) {
        self.label = label
        self.format = format
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let line = line(for: event)
        Self.lock.withLock { FileHandle.standardError.write(line) }
    }

    /// The line `event` writes, with its newline.
    func line(for event: LogEvent) -> Data {
        var metadata = self.metadata.merging(event.metadata ?? [:]) { $1 }
        if let error = event.error {
            // As `StreamLogHandler` names an event's error.
            metadata["error.message"] = "\(error)"
            metadata["error.type"] = "\(String(reflecting: type(of: error)))"
        }
        var line: Data
        switch format {
        case .text:
            line = Data(Self.textLine(timestamp: Self.localTimestamp(), level: event.level, label: label, metadata: metadata,
                                      source: event.source, message: event.message.description).utf8)
        case .json:
            line = Self.jsonLine(level: event.level, label: label, metadata: metadata, message: event.message.description)
        }
        line.append(UInt8(ascii: "\n"))
        return line
    }

    /// One text line as `StreamLogHandler` writes it, without the newline.
    static func textLine(timestamp: String, level: Logger.Level, label: String, metadata: Logger.Metadata,
                         source: String, message: String) -> String {
        let rendered = metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        return "\(timestamp) \(level)\(label.isEmpty ? "" : " ")\(label):\(rendered.isEmpty ? "" : " \(rendered)") [\(source)] \(message)"
    }

    /// One JSON object, without the newline.
    static func jsonLine(level: Logger.Level, label: String, metadata: Logger.Metadata, message: String) -> Data {
        var fields: [String: JSONValue] = [
            "timestamp": .string(Timestamp.iso8601(Date())), "level": .string(level.rawValue),
            "label": .string(label), "message": .string(message),
        ]
        for (key, value) in metadata {
            fields[key] = json(value)
        }
        return JSONValue.object(fields).jsonData
    }

    static func json(_ value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case .string(let text): return .string(text)
        case .stringConvertible(let convertible): return .string(convertible.description)
        case .array(let values): return .array(values.map(json))
        case .dictionary(let entries): return .object(entries.mapValues(json))
        }
    }

    /// Local time to the second with its UTC offset, as `StreamLogHandler` prints it.
    private static func localTimestamp() -> String {
        var now = time(nil)
        var local = tm()
        guard localtime_r(&now, &local) != nil else { return "<unknown>" }
        var buffer = [CChar](repeating: 0, count: 64)
        let count = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &local)
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
