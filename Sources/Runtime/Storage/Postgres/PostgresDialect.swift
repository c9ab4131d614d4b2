/// Plugins write SQLite's dialect with `?` placeholders (ABI.md); this turns a statement into
/// PostgreSQL's, or refuses it naming what it cannot translate. It reads the SQL once, token by
/// token: string literals, quoted identifiers and comments pass through untouched.
///
/// What it changes: `?` → `$1, $2, …`; SQLite's type names to PostgreSQL's of the same range
/// (`INTEGER` is 64-bit in SQLite, `REAL` 8-byte: `BIGINT`, `DOUBLE PRECISION`); a rowid column
/// (`INTEGER PRIMARY KEY [AUTOINCREMENT]`) to an identity column; `IFNULL` → `COALESCE`; the
/// two-argument `MAX`/`MIN` → `GREATEST`/`LEAST`; `==` → `=`. What it refuses: SQLite-only functions
/// and statements (`strftime`, `PRAGMA`, `INSERT OR …`, …) and numbered placeholders.
enum PostgresDialect {
    struct Untranslatable: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    struct Translated: Equatable {
        let sql: String
        let parameterCount: Int
    }

    /// SQLite functions PostgreSQL lacks (or has with other meanings), as lower-case names.
    static let sqliteOnlyFunctions: Set<String> = [
        "strftime", "julianday", "datetime", "unixepoch", "date", "time", "printf", "format", "instr",
        "group_concat", "total", "typeof", "randomblob", "zeroblob", "last_insert_rowid", "changes",
        "total_changes", "glob", "likelihood", "likely", "unlikely", "sqlite_version", "iif", "hex",
        "json_extract", "json_set", "json_each", "json_group_array", "json_group_object",
    ]

    /// Words that start or mark a statement PostgreSQL does not have.
    static let sqliteOnlyWords: Set<String> = ["pragma", "sqlite_master", "sqlite_schema", "sqlite_sequence", "glob", "rowid", "_rowid_", "oid"]

    static let typeNames: [String: String] = [
        "integer": "BIGINT", "int": "BIGINT", "real": "DOUBLE PRECISION", "float": "DOUBLE PRECISION",
        "blob": "BYTEA", "datetime": "TEXT",
    ]

    private enum Token: Equatable {
        case word(String)
        case placeholder
        case other(String)
        /// Spaces, comments, literals and quoted identifiers: copied as they are.
        case verbatim(String)

        var lowercasedWord: String? {
            if case .word(let word) = self { return word.lowercased() }
            return nil
        }
    }

    /// One statement, translated.
    static func translate(_ sql: String) throws -> Translated {
        let tokens = try tokenize(sql)
        let words = tokens.compactMap(\.lowercasedWord)
        if words.first == "replace" || (words.first == "insert" && words.dropFirst().first == "or") {
            throw Untranslatable(message: "INSERT OR … / REPLACE are SQLite's: use INSERT … ON CONFLICT, which both engines run")
        }
        if words.contains("without") && words.contains("rowid") {
            throw Untranslatable(message: "WITHOUT ROWID is SQLite's: drop it for PostgreSQL")
        }
        var out = ""
        out.reserveCapacity(sql.utf8.count + 16)
        var parameter = 0
        var index = 0
        let significant = tokens.indices.filter { if case .verbatim = tokens[$0] { return false } else { return true } }
        // Each significant token's place among them, so that looking ahead is not a search.
        let rank = Dictionary(uniqueKeysWithValues: significant.enumerated().map { ($1, $0) })
        func next(_ position: Int, _ offset: Int) -> Token? {
            guard let at = rank[position], at + offset < significant.count else { return nil }
            return tokens[significant[at + offset]]
        }
        let needsAlias = unnamedSubqueries(tokens, significant: significant)
        while index < tokens.count {
            defer { index += 1 }
            switch tokens[index] {
            case .placeholder:
                parameter += 1
                out += "$\(parameter)"
            case .other(")") where needsAlias.contains(index):
                // PostgreSQL (before 16) requires a name for a subquery in FROM; SQLite does not.
                out += ") AS subquery\(index)"
            case .verbatim(let text), .other(let text):
                out += text
            case .word(let word):
                let lower = word.lowercased()
                let isCall = next(index, 1) == .other("(")
                if isCall && sqliteOnlyFunctions.contains(lower) {
                    throw Untranslatable(message: "\(lower)() is SQLite's and has no PostgreSQL translation: compute it in the plugin or ship a PostgreSQL variant of the migration")
                }
                if sqliteOnlyWords.contains(lower) && !isCall {
                    throw Untranslatable(message: "\(word) is SQLite's and has no PostgreSQL translation")
                }
                if lower == "autoincrement" { continue }
                if lower == "integer", next(index, 1)?.lowercasedWord == "primary", next(index, 2)?.lowercasedWord == "key" {
                    // A rowid column: SQLite numbers rows that do not name it; an identity does.
                    out += "BIGINT GENERATED BY DEFAULT AS IDENTITY"
                    continue
                }
                if lower == "ifnull" && isCall {
                    out += "COALESCE"
                } else if (lower == "max" || lower == "min") && isCall && hasTopLevelComma(tokens, openingAfter: index) {
                    out += lower == "max" ? "GREATEST" : "LEAST"
                } else if let type = typeNames[lower], isTypePosition(previous: previousSignificant(tokens, before: index)) {
                    out += type
                } else {
                    out += word
                }
            }
        }
        return Translated(sql: out, parameterCount: parameter)
    }

    /// A migration script split into its statements (on `;` outside literals and comments), each
    /// translated; an error names the statement.
    static func translateScript(_ script: String) throws -> [String] {
        let words = try tokenize(script).compactMap(\.lowercasedWord)
        for (index, word) in words.enumerated() where word == "create" {
            let next = words.dropFirst(index + 1).prefix(2)
            if next.first == "trigger" || (next.first.map { ["temp", "temporary"].contains($0) } == true && next.last == "trigger") {
                throw Untranslatable(message: "SQLite triggers do not translate to PostgreSQL (they are functions there): ship the migration's PostgreSQL variant")
            }
        }
        return try split(script).map { statement in
            do {
                let translated = try translate(statement)
                guard translated.parameterCount == 0 else { throw Untranslatable(message: "a migration takes no parameters") }
                return translated.sql
            } catch let error as Untranslatable {
                throw Untranslatable(message: "\(error.message) (in: \(statement.trimmingCharacters(in: .whitespacesAndNewlines).prefix(120)))")
            }
        }
    }

    /// The script's statements, without empty ones.
    static func split(_ script: String) throws -> [String] {
        var statements: [String] = []
        var current = ""
        for token in try tokenize(script) {
            if token == .other(";") {
                statements.append(current)
                current = ""
                continue
            }
            switch token {
            case .word(let text), .other(let text), .verbatim(let text): current += text
            case .placeholder: current += "?"
            }
        }
        statements.append(current)
        return statements.filter { !$0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty && !isOnlyComments($0) }
    }

    private static func isOnlyComments(_ sql: String) -> Bool {
        (try? tokenize(sql).allSatisfy { if case .verbatim = $0 { return true } else { return false } }) ?? false
    }

    /// A type name follows a column name or `AS` in a CAST; elsewhere `integer` is a column's name.
    private static func isTypePosition(previous: Token?) -> Bool {
        guard let previous else { return false }
        switch previous {
        case .word: return true
        default: return false
        }
    }

    private static func previousSignificant(_ tokens: [Token], before index: Int) -> Token? {
        var at = index - 1
        while at >= 0 {
            if case .verbatim = tokens[at] { at -= 1; continue }
            return tokens[at]
        }
        return nil
    }

    /// Words after which a subquery in FROM has no name of its own.
    static let clauseWords: Set<String> = [
        "where", "group", "order", "limit", "offset", "union", "except", "intersect", "join", "left", "right", "inner",
        "outer", "cross", "natural", "on", "using", "having", "window", "returning", "full",
    ]

    /// The closing parentheses of `FROM (SELECT …)` / `JOIN (SELECT …)` with no alias after them.
    private static func unnamedSubqueries(_ tokens: [Token], significant: [Int]) -> Set<Int> {
        var closing: Set<Int> = []
        for (position, index) in significant.enumerated() where tokens[index] == .other("(") && position > 0 && position + 1 < significant.count {
            guard let before = tokens[significant[position - 1]].lowercasedWord, before == "from" || before == "join",
                  tokens[significant[position + 1]].lowercasedWord == "select" else { continue }
            var depth = 0
            var end = position
            while end < significant.count {
                let token = tokens[significant[end]]
                if token == .other("(") { depth += 1 }
                if token == .other(")") { depth -= 1; if depth == 0 { break } }
                end += 1
            }
            guard end < significant.count else { continue }
            let after = end + 1 < significant.count ? tokens[significant[end + 1]] : nil
            let named: Bool
            if let word = after?.lowercasedWord { named = !clauseWords.contains(word) } else { named = false }
            if !named { closing.insert(significant[end]) }
        }
        return closing
    }

    /// Whether the parenthesis after `index` holds two or more arguments.
    private static func hasTopLevelComma(_ tokens: [Token], openingAfter index: Int) -> Bool {
        var depth = 0
        var at = index + 1
        while at < tokens.count {
            switch tokens[at] {
            case .other("("): depth += 1
            case .other(")"):
                depth -= 1
                if depth == 0 { return false }
            case .other(","): if depth == 1 { return true }
            default: break
            }
            at += 1
        }
        return false
    }

    /// The index of the closing `$` of a dollar-quote tag starting at `start` (`$$`, `$body$`).
    private static func dollarTagEnd(_ bytes: [UInt8], from start: Int) -> Int? {
        var at = start + 1
        while at < bytes.count {
            let byte = bytes[at]
            if byte == UInt8(ascii: "$") { return at }
            let isTagByte = (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z") || byte == UInt8(ascii: "_")
            guard isTagByte else { return nil }
            at += 1
        }
        return nil
    }

    private static func tokenize(_ sql: String) throws -> [Token] {
        var tokens: [Token] = []
        let bytes = Array(sql.utf8)
        var at = 0
        func text(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }
        func isWordByte(_ byte: UInt8) -> Bool {
            (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z") || byte == UInt8(ascii: "_")
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte >= 0x80
        }
        while at < bytes.count {
            let byte = bytes[at]
            let start = at
            switch byte {
            case UInt8(ascii: "'"), UInt8(ascii: "\""), UInt8(ascii: "`"):
                at += 1
                while at < bytes.count {
                    if bytes[at] == byte {
                        if at + 1 < bytes.count && bytes[at + 1] == byte { at += 2; continue }
                        break
                    }
                    at += 1
                }
                guard at < bytes.count else { throw Untranslatable(message: "unterminated quote in the statement") }
                at += 1
                var quoted = text(start..<at)
                if byte == UInt8(ascii: "`") { quoted = "\"" + quoted.dropFirst().dropLast() + "\"" }
                tokens.append(.verbatim(quoted))
            case UInt8(ascii: "-") where at + 1 < bytes.count && bytes[at + 1] == UInt8(ascii: "-"):
                while at < bytes.count && bytes[at] != UInt8(ascii: "\n") { at += 1 }
                tokens.append(.verbatim(text(start..<at)))
            case UInt8(ascii: "/") where at + 1 < bytes.count && bytes[at + 1] == UInt8(ascii: "*"):
                at += 2
                while at + 1 < bytes.count && !(bytes[at] == UInt8(ascii: "*") && bytes[at + 1] == UInt8(ascii: "/")) { at += 1 }
                at = min(at + 2, bytes.count)
                tokens.append(.verbatim(text(start..<at)))
            case UInt8(ascii: "?"):
                if at + 1 < bytes.count && bytes[at + 1] >= UInt8(ascii: "0") && bytes[at + 1] <= UInt8(ascii: "9") {
                    throw Untranslatable(message: "numbered placeholders (?NNN) are SQLite's: use plain ?")
                }
                at += 1
                tokens.append(.placeholder)
            case UInt8(ascii: "$") where dollarTagEnd(bytes, from: at) != nil:
                // A PostgreSQL dollar-quoted body ($$ … $$, $tag$ … $tag$), in a migration's
                // PostgreSQL variant: one token, whatever semicolons it holds.
                let tag = Array(bytes[at...dollarTagEnd(bytes, from: at)!])
                at += tag.count
                while at < bytes.count && !bytes[at...].starts(with: tag) { at += 1 }
                guard at < bytes.count else { throw Untranslatable(message: "unterminated dollar quote in the statement") }
                at += tag.count
                tokens.append(.verbatim(text(start..<at)))
            case UInt8(ascii: ":") where at + 1 < bytes.count && bytes[at + 1] == UInt8(ascii: ":"):
                // PostgreSQL's cast operator, in a migration's PostgreSQL variant.
                at += 2
                tokens.append(.other("::"))
            case let sigil where [UInt8(ascii: ":"), UInt8(ascii: "@"), UInt8(ascii: "$")].contains(sigil)
                && at + 1 < bytes.count && isWordByte(bytes[at + 1]):
                throw Untranslatable(message: "named placeholders are SQLite's: use plain ?")
            case UInt8(ascii: "="):
                at += 1
                if at < bytes.count && bytes[at] == UInt8(ascii: "=") { at += 1 }
                tokens.append(.other("="))
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                while at < bytes.count && [UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r")].contains(bytes[at]) { at += 1 }
                tokens.append(.verbatim(text(start..<at)))
            default:
                if isWordByte(byte) {
                    while at < bytes.count && isWordByte(bytes[at]) { at += 1 }
                    let word = text(start..<at)
                    // Numbers are words to the tokenizer; they are never translated.
                    tokens.append(word.first!.isNumber ? .other(word) : .word(word))
                } else {
                    at += 1
                    tokens.append(.other(text(start..<at)))
                }
            }
        }
        return tokens
    }
}
