import Foundation

/// Where things are in a TOML file, by line, for error messages: TOMLKit answers values, not
/// their positions. Understands what plugins.conf uses — `[table]` and `[[array]]` headers,
/// `key = value` lines, comments — which is enough to point an operator at the line to fix.
struct TOMLLines {
    private struct KeyLine {
        let number: Int
        /// The header the key sits under (`host`, `plugin`, `plugin.config`), "" before any.
        let table: String
        /// For keys under `[[plugin]]` and its sub-tables: which entry (0-based).
        let occurrence: Int
        let key: String
    }

    private var keys: [KeyLine] = []
    private var headers: [(number: Int, table: String)] = []

    init(_ text: String) {
        var table = ""
        var occurrences: [String: Int] = [:]
        var occurrence = 0
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("[") {
                let isArray = line.hasPrefix("[[")
                let name = line.drop { $0 == "[" }.prefix { $0 != "]" }.trimmingCharacters(in: .whitespaces)
                table = name
                if isArray {
                    occurrence = occurrences[name, default: -1] + 1
                    occurrences[name] = occurrence
                }
                headers.append((index + 1, name))
                continue
            }
            guard let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
            keys.append(KeyLine(number: index + 1, table: table, occurrence: table.hasPrefix("plugin") ? occurrence : 0, key: key))
        }
    }

    /// The line of `key` under `[table]` (the `occurrence`-th `[[table]]` for arrays).
    func line(ofKey key: String, in table: String, occurrence: Int = 0) -> Int? {
        keys.first { $0.table == table && $0.key == key && $0.occurrence == occurrence }?.number
            // A dotted key (`pricing.f_time = …` under [hooks]) is found by its first part.
            ?? keys.first { $0.table == table && $0.key.hasPrefix(key + ".") }?.number
    }

    /// The line of the header `[table]`.
    func line(ofTable table: String) -> Int? {
        headers.first { $0.table == table }?.number
    }
}
