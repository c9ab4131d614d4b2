import Foundation
import NIOCore
import PostgresNIO
import StelltronPluginKit

/// PostgreSQL rows → the ABI's `[{"column": value, ...}, ...]`, in SQLite's terms, which plugins
/// are written against: booleans as `1`/`0` (SQLite has no boolean), integral `numeric` (what
/// `SUM` of a `BIGINT` column gives) as an integer, `bytea` as base64 like a SQLite blob.
enum PostgresRows {
    /// One cell in SQLite's terms.
    enum Value {
        case null
        case integer(Int64)
        case real(Double)
        case text(String)
        case blob([UInt8])
    }

    static func json(_ rows: [PostgresRow]) throws -> Data {
        var out: [UInt8] = [UInt8(ascii: "[")]
        out.reserveCapacity(256)
        for (index, row) in rows.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "{"))
            var first = true
            for cell in row {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                JSONWriter.appendString(cell.columnName, to: &out)
                out.append(UInt8(ascii: ":"))
                switch try value(of: cell) {
                case .null: out.append(contentsOf: "null".utf8)
                case .integer(let integer): out.append(contentsOf: String(integer).utf8)
                case .real(let real): JSONWriter.appendDouble(real, to: &out)
                case .text(let text): JSONWriter.appendString(text, to: &out)
                case .blob(let blob): JSONWriter.appendString(Data(blob).base64EncodedString(), to: &out)
                }
            }
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "]"))
        return Data(out)
    }

    /// The rows as ABI 1.3's cells. PostgreSQL names the columns with each row: a statement
    /// without rows answers no columns.
    static func cells(_ rows: [PostgresRow]) throws -> RowsBuilder {
        var builder = RowsBuilder()
        guard let first = rows.first else { return builder }
        builder.setColumns(first.map(\.columnName))
        for row in rows {
            for cell in row {
                switch try value(of: cell) {
                case .null: builder.appendNull()
                case .integer(let integer): builder.appendInteger(integer)
                case .real(let real): builder.appendReal(real)
                case .text(let text): builder.appendText(text)
                case .blob(let blob): builder.appendBlob(blob)
                }
            }
        }
        return builder
    }

    private static func value(of cell: PostgresCell) throws -> Value {
        guard cell.bytes != nil else { return .null }
        do {
            switch cell.dataType {
            case .int2: return .integer(Int64(try cell.decode(Int16.self)))
            case .int4: return .integer(Int64(try cell.decode(Int32.self)))
            case .int8: return .integer(try cell.decode(Int64.self))
            case .float4, .float8: return .real(try cell.decode(Double.self))
            case .bool: return .integer(try cell.decode(Bool.self) ? 1 : 0)
            case .numeric:
                let text = "\(try cell.decode(Decimal.self))"
                if let integer = Int64(text) { return .integer(integer) }
                return .real(Double(text) ?? .nan)
            // As a ByteBuffer: PostgresNIO decodes no [UInt8] (it refused every bytea column).
            case .bytea: return .blob(Array(try cell.decode(ByteBuffer.self).readableBytesView))
            default: return .text(try cell.decode(String.self))
            }
        } catch {
            throw StorageFailure(kind: .statement, message: "column \(cell.columnName) has PostgreSQL type \(cell.dataType), which the host does not convert: cast it to BIGINT, DOUBLE PRECISION or TEXT")
        }
    }
}

/// Each statement's translation, made once: plugins run the same few statements over and over.
// Sendable: `lock` guards the cache.
final class PostgresStatements: @unchecked Sendable {
    private let lock = NSLock()
    private var cache: [String: PostgresDialect.Translated] = [:]

    func translated(_ sql: String) throws -> PostgresDialect.Translated {
        if let known = lock.withLock({ cache[sql] }) { return known }
        let translated = try PostgresDialect.translate(sql)
        lock.withLock {
            // Plugins build few distinct statements; a runaway one (ids in the SQL) must not grow this forever.
            if cache.count > 4096 { cache.removeAll(keepingCapacity: true) }
            cache[sql] = translated
        }
        return translated
    }
}
