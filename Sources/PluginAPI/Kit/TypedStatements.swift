import CStelltronPluginAPI
import Foundation

/// ABI 1.3's typed storage calls (`storage_query_values`, `storage_exec_values`): parameters go
/// as `stl_value`s and rows come back as cells, so neither side writes or parses JSON. The kit
/// uses them whenever the host has them and falls back to the JSON calls of 1.0 otherwise; rows
/// read either way are the same `JSONValue`s.
extension PluginHost {
    /// Whether the host's table is large enough to hold the 1.3 functions, and fills them.
    var hasTypedStatements: Bool {
        api.pointee.struct_size >= Self.typedStatementsTableSize
            && api.pointee.storage_query_values != nil && api.pointee.storage_exec_values != nil && api.pointee.free_rows != nil
    }

    /// STL_HOST_API_SIZE_V1_3 (an offsetof macro, which Swift does not import), computed once.
    private static let typedStatementsTableSize = UInt32(MemoryLayout<stl_host_api>.offset(of: \.free_rows)! + MemoryLayout<UnsafeRawPointer>.size)

    /// Runs a read statement through `storage_query_values`; its rows as the JSON calls read them.
    func typedQuery(_ sql: String, _ parameters: [SQLParameter]) throws -> [[String: JSONValue]] {
        var rows = stl_rows()
        var err = stl_host_bytes()
        let status = try withValues(parameters) { values, count in
            withStr(sql) { api.pointee.storage_query_values!(ctx, $0, values, count, &rows, &err) }
        }
        defer { api.pointee.free_rows!(ctx, &rows) }
        try check(status, err)
        return Self.objects(rows)
    }

    /// Runs a writing statement through `storage_exec_values`.
    func typedExecute(_ sql: String, _ parameters: [SQLParameter]) throws -> ExecResult {
        var changes: Int64 = 0
        var rowID: Int64 = 0
        var err = stl_host_bytes()
        let status = try withValues(parameters) { values, count in
            withStr(sql) { api.pointee.storage_exec_values!(ctx, $0, values, count, &changes, &rowID, &err) }
        }
        try check(status, err)
        return ExecResult(changes: Int(changes), lastInsertRowID: rowID)
    }

    private func check(_ status: stl_status, _ err: stl_host_bytes) throws {
        defer { api.pointee.free_bytes(ctx, err) }
        guard status != STL_OK else { return }
        let message = err.ptr.map { String(decoding: UnsafeBufferPointer(start: $0, count: err.len), as: UTF8.self) } ?? ""
        throw PluginError(status: status, message: message)
    }

    /// Lends the parameters as `stl_value`s, their texts copied once into one buffer that lives
    /// for the call (a String's own bytes may not be contiguous, and each needs a stable address).
    private func withValues<R>(_ parameters: [SQLParameter], _ body: (UnsafePointer<stl_value>?, Int) throws -> R) throws -> R {
        guard !parameters.isEmpty else { return try body(nil, 0) }
        var textBytes = 0
        for parameter in parameters {
            switch parameter {
            case .text(let text): textBytes += text.utf8.count
            case .double(let value) where !value.isFinite: throw PluginError.badRequest("numbers must be finite")
            default: break
            }
        }
        return try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(textBytes, 1)) { texts in
            try withUnsafeTemporaryAllocation(of: stl_value.self, capacity: parameters.count) { values in
                var at = 0
                for (index, parameter) in parameters.enumerated() {
                    var value = stl_value()
                    switch parameter {
                    case .null: value.type = STL_VALUE_NULL
                    case .int(let integer):
                        value.type = STL_VALUE_INTEGER
                        value.integer = integer
                    case .double(let real):
                        value.type = STL_VALUE_REAL
                        value.real = real
                    case .text(var text):
                        value.type = STL_VALUE_TEXT
                        let start = at
                        text.withUTF8 { utf8 in
                            if let base = utf8.baseAddress { (texts.baseAddress! + at).update(from: base, count: utf8.count) }
                            at += utf8.count
                        }
                        value.bytes = stl_bytes_view(ptr: UnsafePointer(texts.baseAddress! + start), len: at - start)
                    }
                    (values.baseAddress! + index).initialize(to: value)
                }
                return try body(UnsafePointer(values.baseAddress!), parameters.count)
            }
        }
    }

    /// Cells as the JSON calls' rows would parse: a real that JSON writes without a fraction
    /// (integral, within ±2⁵³) reads back as an integer, a non-finite one as null, a blob as
    /// base64 text. Column names are made into strings once per statement.
    static func objects(_ rows: stl_rows) -> [[String: JSONValue]] {
        let columnCount = Int(rows.column_count)
        guard rows.row_count > 0, columnCount > 0, let columns = rows.columns, let values = rows.values else { return [] }
        let names = (0..<columnCount).map { columns[$0].string }
        var objects: [[String: JSONValue]] = []
        objects.reserveCapacity(rows.row_count)
        for row in 0..<rows.row_count {
            var object = [String: JSONValue](minimumCapacity: columnCount)
            for column in 0..<columnCount {
                object[names[column]] = value(values[row * columnCount + column])
            }
            objects.append(object)
        }
        return objects
    }

    private static func value(_ cell: stl_value) -> JSONValue {
        switch cell.type {
        case STL_VALUE_INTEGER: return .int(cell.integer)
        case STL_VALUE_REAL:
            let real = cell.real
            guard real.isFinite else { return .null }
            return real.rounded(.towardZero) == real && abs(real) <= 0x1p53 ? .int(Int64(real)) : .double(real)
        case STL_VALUE_TEXT: return .string(String(decoding: bytes(cell), as: UTF8.self))
        case STL_VALUE_BLOB: return .string(Data(bytes(cell)).base64EncodedString())
        default: return .null
        }
    }

    private static func bytes(_ cell: stl_value) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: cell.bytes.ptr, count: cell.bytes.ptr == nil ? 0 : cell.bytes.len)
    }
}
