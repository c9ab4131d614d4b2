import CStelltronPluginAPI
import Foundation

/// The typed parameters of one ABI 1.3 storage call (`stl_value`s), borrowed from the plugin for
/// the call, and checked the same way whatever engine binds them.
public struct StatementValues {
    /// One checked parameter. Texts and blobs point into the plugin's memory (valid during the call).
    enum Value {
        case null
        case integer(Int64)
        case real(Double)
        case text(UnsafeRawBufferPointer)
        case blob(UnsafeRawBufferPointer)
    }

    let values: [Value]

    /// Reads `count` values at `pointer`: known types only, finite reals, valid UTF-8 texts.
    init(_ pointer: UnsafePointer<stl_value>?, count: Int) throws {
        guard count >= 0, count == 0 || pointer != nil else {
            throw StorageFailure(kind: .parameters, message: "parameters are missing: \(count) announced, none given")
        }
        var values: [Value] = []
        values.reserveCapacity(count)
        for index in 0..<count {
            values.append(try Self.value(pointer![index], number: index + 1))
        }
        self.values = values
    }

    /// As many values as the statement's `?`.
    func check(expected: Int) throws {
        try StorageParameters.check(values.count, expected: expected)
    }

    private static func value(_ raw: stl_value, number: Int) throws -> Value {
        switch raw.type {
        case STL_VALUE_NULL: return .null
        case STL_VALUE_INTEGER: return .integer(raw.integer)
        case STL_VALUE_REAL:
            guard raw.real.isFinite else { throw StorageFailure(kind: .parameters, message: "parameter \(number) is not a finite number") }
            return .real(raw.real)
        case STL_VALUE_TEXT:
            let bytes = try Self.bytes(raw, number: number)
            // The JSON calls could only carry valid UTF-8; typed texts keep that promise.
            guard isUTF8(bytes) else {
                throw StorageFailure(kind: .parameters, message: "parameter \(number) is text that is not valid UTF-8")
            }
            return .text(bytes)
        case STL_VALUE_BLOB: return .blob(try Self.bytes(raw, number: number))
        default: throw StorageFailure(kind: .parameters, message: "parameter \(number) has unknown value type \(raw.type)")
        }
    }

    /// ASCII, the usual text, byte by byte; anything else through the standard library, whose
    /// validation builds a String (2.8 % of the single writer's time on pings when every text
    /// took that way).
    private static func isUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
        for byte in bytes where byte >= 0x80 {
            return String(validating: bytes, as: UTF8.self) != nil
        }
        return true
    }

    private static func bytes(_ raw: stl_value, number: Int) throws -> UnsafeRawBufferPointer {
        guard raw.bytes.len == 0 || raw.bytes.ptr != nil else {
            throw StorageFailure(kind: .parameters, message: "parameter \(number) has \(raw.bytes.len) bytes at a NULL pointer")
        }
        return UnsafeRawBufferPointer(start: raw.bytes.ptr, count: raw.bytes.len)
    }
}

/// The rows of one statement as `stl_rows`: cells appended while the statement steps, then laid
/// out in one allocation (column names, cells, their bytes) that `free_rows` releases.
public struct RowsBuilder {
    private struct Cell {
        var type: Int32
        var integer: Int64 = 0
        var real: Double = 0
        /// Where the cell's bytes start in `bytes`, and how many.
        var offset = 0
        var count = 0
    }

    private var columnNames: [String] = []
    private var cells: [Cell] = []
    private var bytes: [UInt8] = []

    var columnCount: Int { columnNames.count }

    /// Sets the column names (once, before the first cell).
    mutating func setColumns(_ names: [String]) {
        columnNames = names
    }

    mutating func appendNull() { cells.append(Cell(type: STL_VALUE_NULL)) }
    mutating func appendInteger(_ value: Int64) { cells.append(Cell(type: STL_VALUE_INTEGER, integer: value)) }
    mutating func appendReal(_ value: Double) { cells.append(Cell(type: STL_VALUE_REAL, real: value)) }

    mutating func appendText(_ text: UnsafeRawBufferPointer) { appendBytes(text, type: STL_VALUE_TEXT) }
    mutating func appendBlob(_ blob: UnsafeRawBufferPointer) { appendBytes(blob, type: STL_VALUE_BLOB) }

    mutating func appendText(_ text: String) {
        var text = text
        text.withUTF8 { appendText(UnsafeRawBufferPointer($0)) }
    }

    mutating func appendBlob(_ blob: [UInt8]) {
        blob.withUnsafeBytes { appendBlob($0) }
    }

    private mutating func appendBytes(_ source: UnsafeRawBufferPointer, type: Int32) {
        cells.append(Cell(type: type, offset: bytes.count, count: source.count))
        bytes.append(contentsOf: source)
        bytes.append(0) // NUL-terminated, as every string the host passes
    }

    /// The rows in one block: `[stl_str × columns][stl_value × cells][names and cell bytes]`. Both
    /// structs are 8-byte multiples, so the block's malloc alignment holds for all three parts.
    func finish() -> stl_rows {
        var rows = stl_rows()
        rows.struct_size = UInt32(MemoryLayout<stl_rows>.size)
        guard !columnNames.isEmpty else { return rows }
        let nameBytes = columnNames.reduce(0) { $0 + $1.utf8.count + 1 }
        let columnsSize = MemoryLayout<stl_str>.stride * columnNames.count
        let cellsSize = MemoryLayout<stl_value>.stride * cells.count
        guard let block = malloc(columnsSize + cellsSize + nameBytes + bytes.count) else { return rows }
        let columns = block.bindMemory(to: stl_str.self, capacity: columnNames.count)
        let values = (block + columnsSize).bindMemory(to: stl_value.self, capacity: cells.count)
        let text = (block + columnsSize + cellsSize).bindMemory(to: UInt8.self, capacity: nameBytes + bytes.count)
        var at = 0
        for (index, name) in columnNames.enumerated() {
            var name = name
            let count = name.withUTF8 { utf8 in
                if let base = utf8.baseAddress { (text + at).update(from: base, count: utf8.count) }
                return utf8.count
            }
            text[at + count] = 0
            columns[index] = stl_str(ptr: UnsafeRawPointer(text + at).assumingMemoryBound(to: CChar.self), len: count)
            at += count + 1
        }
        let cellBytes = text + at
        bytes.withUnsafeBufferPointer { if let base = $0.baseAddress { cellBytes.update(from: base, count: $0.count) } }
        for (index, cell) in cells.enumerated() {
            let isBytes = cell.type == STL_VALUE_TEXT || cell.type == STL_VALUE_BLOB
            (values + index).initialize(to: stl_value(
                type: cell.type, reserved0: 0, integer: cell.integer, real: cell.real,
                bytes: stl_bytes_view(ptr: isBytes ? UnsafePointer(cellBytes + cell.offset) : nil, len: cell.count)))
        }
        rows.column_count = UInt32(columnNames.count)
        rows.row_count = cells.count / columnNames.count
        rows.columns = UnsafePointer(columns)
        rows.values = UnsafePointer(values)
        rows.host_owned = block
        return rows
    }
}
