import Foundation
import Logging

/// The default plain-text log: the line swift-log's `StreamLogHandler` writes (`timestamp level
/// label: key=value … [source] message`, keys sorted) on standard error, with the metadata
/// rendered when a line is written rather than when it is set. `StreamLogHandler` renders all of
/// its metadata again on every change, and Hummingbird sets a request id on the logger of every
/// request: 1.8 % of a price request's samples went to text nobody printed (`perf record`, wrk
/// -t2 -c64 on `/api/v1/market/price` at `LOG_LEVEL=warning`).
public struct TextLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String
    private static let lock = NSLock()

    public init(label: String) {
        self.label = label
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let line = Self.line(timestamp: Self.timestamp(), level: event.level, label: label,
                             metadata: metadata.merging(event.metadata ?? [:]) { $1 },
                             source: event.source, message: event.message.description)
        Self.lock.withLock { FileHandle.standardError.write(Data(line.utf8)) }
    }

    /// One line, as `StreamLogHandler` writes it.
    static func line(timestamp: String, level: Logger.Level, label: String, metadata: Logger.Metadata,
                     source: String, message: String) -> String {
        let rendered = metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        return "\(timestamp) \(level)\(label.isEmpty ? "" : " ")\(label):\(rendered.isEmpty ? "" : " \(rendered)") [\(source)] \(message)\n"
    }

    /// Local time to the second with its UTC offset, as `StreamLogHandler` prints it.
    private static func timestamp() -> String {
        var now = time(nil)
        var local = tm()
        guard localtime_r(&now, &local) != nil else { return "<unknown>" }
        var buffer = [CChar](repeating: 0, count: 64)
        let count = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &local)
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
