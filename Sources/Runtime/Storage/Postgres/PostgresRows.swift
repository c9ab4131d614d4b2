import Foundation
import NIOCore
import PostgresNIO
import StelltronPluginKit

/// PostgreSQL rows → the ABI's `[{"column": value, ...}, ...]`, in SQLite's terms, which plugins
/// are written against: booleans as `1`/`0` (SQLite has no boolean), integral `numeric` (what
/// `SUM` of a `BIGINT` column gives) as an integer, `bytea` as base64 like a SQLite blob.
enum PostgresRows {
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
                try append(cell, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "]"))
        return Data(out)
    }

    private static func append(_ cell: PostgresCell, to out: inout [UInt8]) throws {
        guard cell.bytes != nil else {
            out.append(contentsOf: "null".utf8)
            return
        }
        do {
            switch cell.dataType {
            case .int2: out.append(contentsOf: String(try cell.decode(Int16.self)).utf8)
            case .int4: out.append(contentsOf: String(try cell.decode(Int32.self)).utf8)
            case .int8: out.append(contentsOf: String(try cell.decode(Int64.self)).utf8)
            case .float4, .float8: JSONWriter.appendDouble(try cell.decode(Double.self), to: &out)
            case .bool: out.append(try cell.decode(Bool.self) ? UInt8(ascii: "1") : UInt8(ascii: "0"))
            case .numeric:
                let text = "\(try cell.decode(Decimal.self))"
                if let integer = Int64(text) { out.append(contentsOf: String(integer).utf8) } else { JSONWriter.appendDouble(Double(text) ?? .nan, to: &out) }
            case .bytea: JSONWriter.appendString(Data(try cell.decode([UInt8].self)).base64EncodedString(), to: &out)
            default: JSONWriter.appendString(try cell.decode(String.self), to: &out)
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
