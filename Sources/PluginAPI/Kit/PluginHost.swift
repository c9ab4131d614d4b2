import CStelltronPluginAPI
import Foundation

/// A scalar bound to a `?` placeholder. Encoded as plain JSON, the form the ABI carries.
public enum SQLParameter: Encodable, Sendable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    case null
    case int(Int64)
    case double(Double)
    case text(String)

    public init(stringLiteral value: String) { self = .text(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }

    public func encode(to encoder: Encoder) throws {
        try json().encode(to: encoder)
    }

    /// The parameter as the JSON the ABI carries; numbers must be finite.
    func json() throws -> JSONValue {
        switch self {
        case .null: return .null
        case .int(let value): return .int(value)
        case .double(let value):
            guard value.isFinite else { throw PluginError.badRequest("numbers must be finite") }
            return .double(value)
        case .text(let value): return .string(value)
        }
    }

    /// `[1, 2.5, "x", null]`, written directly: statements are the commonest ABI crossing.
    static func jsonData(_ parameters: [SQLParameter]) throws -> Data {
        try JSONValue.array(parameters.map { try $0.json() }).jsonData
    }
}

/// The result of a writing statement.
public struct ExecResult: Sendable {
    public let changes: Int
    public let lastInsertRowID: Int64

    init(changes: Int, lastInsertRowID: Int64) {
        self.changes = changes
        self.lastInsertRowID = lastInsertRowID
    }

    /// Reads `{"changes":N,"last_insert_rowid":M}`, the host's answer to every JSON exec.
    init?(json data: Data) {
        guard case .object(let members)? = try? JSONValue.parse(data),
              let changes = members["changes"]?.int64Value, let rowID = members["last_insert_rowid"]?.int64Value else { return nil }
        self.changes = Int(changes)
        self.lastInsertRowID = rowID
    }
}

/// What the host offers a plugin during one call: storage in the call's transaction, events
/// published on commit, other plugins' services, config, clock, randomness and logging.
/// Valid only during the call that received it; never keep it.
public struct PluginHost {
    let api: UnsafePointer<stl_host_api>
    let ctx: OpaquePointer?

    public enum LogLevel: Int32 { case debug = 0, info = 1, warning = 2, error = 3 }

    public func log(_ level: LogLevel, _ message: String) {
        withStr(message) { api.pointee.log(ctx, level.rawValue, $0) }
    }

    /// Runs a read statement and returns its rows as JSON objects keyed by column name.
    public func query(_ sql: String, _ parameters: [SQLParameter] = []) throws -> [[String: JSONValue]] {
        if hasTypedStatements { return try typedQuery(sql, parameters) }
        let data = try callStorage(api.pointee.storage_query, sql, parameters)
        guard case .array(let rows) = try JSONValue.parse(data) else {
            throw PluginError(.storage, "the host answered rows that are not a JSON array of objects")
        }
        return try rows.map { row in
            guard case .object(let columns) = row else {
                throw PluginError(.storage, "the host answered rows that are not a JSON array of objects")
            }
            return columns
        }
    }

    /// Runs a read statement and decodes each row (columns by name) into `T`.
    public func query<T: Decodable>(_ type: T.Type, _ sql: String, _ parameters: [SQLParameter] = []) throws -> [T] {
        if hasTypedStatements {
            return try JSONValueDecoder.decode([T].self, from: .array(try typedQuery(sql, parameters).map(JSONValue.object)))
        }
        return try JSONCoding.decode([T].self, from: try queryJSON(sql, parameters))
    }

    /// Runs a read statement and returns its rows as the JSON text the host writes,
    /// `[{"column": value, ...}, ...]` (blobs as base64): for rows passed on unchanged.
    public func queryJSON(_ sql: String, _ parameters: [SQLParameter] = []) throws -> Data {
        try callStorage(api.pointee.storage_query, sql, parameters)
    }

    /// Runs one writing statement inside the current transaction.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [SQLParameter] = []) throws -> ExecResult {
        if hasTypedStatements { return try typedExecute(sql, parameters) }
        let data = try callStorage(api.pointee.storage_exec, sql, parameters)
        guard let result = ExecResult(json: data) else {
            throw PluginError(.storage, "the host answered an exec result without changes and last_insert_rowid")
        }
        return result
    }

    /// Queues an event for the live feeds; it is published only if the transaction commits.
    public func emit<T: Encodable>(_ type: String, _ payload: T) throws {
        try emit(type, json: try JSONCoding.encode(payload))
    }

    /// Queues an event whose payload is already JSON text (one object; the host checks it), for
    /// payloads that arrive as JSON and are passed on unchanged.
    public func emit(_ type: String, json payloadData: Data) throws {
        var err = stl_host_bytes()
        let status = withStr(type) { typeStr in
            withStr(payloadData) { api.pointee.emit_event(ctx, typeStr, $0, &err) }
        }
        let message = take(err)
        if status != STL_OK { throw PluginError(status: status, message: String(decoding: message, as: UTF8.self)) }
    }

    /// Calls another plugin's (or the host's) service with raw JSON, inside this transaction.
    public func callRaw(_ service: String, _ requestJSON: Data) throws -> Data {
        var out = stl_host_bytes()
        let status = withStr(service) { name in
            withStr(requestJSON) { api.pointee.call_service(ctx, name, $0, &out) }
        }
        let data = take(out)
        if status != STL_OK { throw PluginError(status: status, message: String(decoding: data, as: UTF8.self)) }
        return data
    }

    /// Calls a service with an encodable request and decodes its answer.
    public func call<Request: Encodable, Answer: Decodable>(_ service: String, _ request: Request, as: Answer.Type) throws -> Answer {
        let data = try callRaw(service, try JSONCoding.encode(request))
        return try JSONCoding.decode(Answer.self, from: data)
    }

    /// One key of this plugin's table in plugins.conf, or nil when it is absent.
    public func config(_ key: String) throws -> JSONValue? {
        var out = stl_host_bytes()
        let status = withStr(key) { api.pointee.config_get(ctx, $0, &out) }
        let data = take(out)
        if status == STL_ERR_NOT_FOUND { return nil }
        if status != STL_OK { throw PluginError(status: status, message: String(decoding: data, as: UTF8.self)) }
        return try JSONCoding.decode(JSONValue.self, from: data)
    }

    /// The C function an operator bound to one of this plugin's declared hook points, as `type`
    /// (a `@convention(c)` function type matching the declared signature), or nil when nothing is
    /// bound or the host predates ABI 1.1. Ask during `init`: the host hands hooks out only then.
    ///
    ///     let timeFactor = try host.hookFunction("pricing.f_time", as: (@convention(c) (Int32) -> Double).self)
    public func hookFunction<Function>(_ name: String, as type: Function.Type) throws -> Function? {
        guard api.pointee.struct_size >= UInt32(MemoryLayout<stl_host_api>.offset(of: \.hook_function)! + MemoryLayout<UnsafeRawPointer>.size),
              let lookup = api.pointee.hook_function else { return nil }
        precondition(MemoryLayout<Function>.size == MemoryLayout<UnsafeRawPointer>.size, "hookFunction needs a @convention(c) function type")
        var function: UnsafeMutableRawPointer?
        let status = withStr(name) { lookup(ctx, $0, &function) }
        if status == STL_ERR_NOT_FOUND { return nil }
        guard status == STL_OK, let function else { throw PluginError(status: status, message: "hook \(name) is not available (status \(status))") }
        return unsafeBitCast(function, to: type)
    }

    /// The host's clock (tests can move it).
    public func now() -> Date {
        Date(timeIntervalSince1970: Double(api.pointee.clock_now_ms(ctx)) / 1000)
    }

    public func randomBytes(_ count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let status = bytes.withUnsafeMutableBufferPointer { api.pointee.random_bytes(ctx, $0.baseAddress, count) }
        if status != STL_OK { throw PluginError(.internalError, "random bytes unavailable") }
        return bytes
    }

    // MARK: - Plumbing

    private typealias StorageFunction = @convention(c) (OpaquePointer?, stl_str, stl_str, UnsafeMutablePointer<stl_host_bytes>?) -> stl_status

    private func callStorage(_ function: StorageFunction?, _ sql: String, _ parameters: [SQLParameter]) throws -> Data {
        guard let function else { throw PluginError(.unsupported, "the host lacks this storage function") }
        let params = parameters.isEmpty ? Data() : try SQLParameter.jsonData(parameters)
        var out = stl_host_bytes()
        let status = withStr(sql) { sqlStr in withStr(params) { function(ctx, sqlStr, $0, &out) } }
        let data = take(out)
        if status != STL_OK { throw PluginError(status: status, message: String(decoding: data, as: UTF8.self)) }
        return data
    }

    /// Copies host-owned bytes into Swift memory and gives them back to the host at once.
    private func take(_ bytes: stl_host_bytes) -> Data {
        guard let pointer = bytes.ptr, bytes.len > 0 else {
            api.pointee.free_bytes(ctx, bytes)
            return Data()
        }
        let data = Data(bytes: pointer, count: bytes.len)
        api.pointee.free_bytes(ctx, bytes)
        return data
    }
}

/// Borrows a Swift string as an `stl_str` for the duration of `body`.
func withStr<R>(_ string: String, _ body: (stl_str) throws -> R) rethrows -> R {
    var copy = string
    return try copy.withUTF8 { buffer in
        try buffer.withMemoryRebound(to: CChar.self) { chars in
            try body(stl_str(ptr: chars.baseAddress, len: chars.count))
        }
    }
}

/// Borrows bytes as an `stl_str` for the duration of `body`.
func withStr<R>(_ data: Data, _ body: (stl_str) throws -> R) rethrows -> R {
    try data.withUnsafeBytes { raw in
        try body(stl_str(ptr: raw.bindMemory(to: CChar.self).baseAddress, len: raw.count))
    }
}

extension stl_str {
    /// Copies the view into a Swift string (invalid UTF-8 is repaired, never trusted). Public so
    /// that the host reads the ABI's strings with the same code as plugins do.
    public var string: String {
        guard let ptr, len > 0 else { return "" }
        return ptr.withMemoryRebound(to: UInt8.self, capacity: len) {
            String(decoding: UnsafeBufferPointer(start: $0, count: len), as: UTF8.self)
        }
    }

    public var data: Data {
        guard let ptr, len > 0 else { return Data() }
        return Data(bytes: ptr, count: len)
    }
}
