import Foundation
import StelltronPluginKit
import StelltronTesting
import Testing

/// ABI 1.3's typed statements (`storage_query_values`, `storage_exec_values`, `free_rows`): from
/// plain C, and through the kit, whose rows must read the same as through the JSON calls. On
/// whichever engine the tests run (SQLite, or PostgreSQL with STELLTRON_TEST_DATABASE).
@Suite("typed statements (ABI 1.3)")
struct TypedStatementTests {
    @Test("a C plugin stores and reads back every type, and bad parameters are refused in words")
    func cPluginCases() async throws {
        let host = try PluginTestHost(library: try Fixtures.cPlugin([], source: "values_plugin.c"))
        let answer = try await host.request("POST", "/api/v1/cvalues/check", json: "{}")
        #expect(answer.status == 200, "\(String(decoding: answer.body, as: UTF8.self))")
        let cases = Fixtures.json(answer.body)
        #expect(cases["insert"] as? Int == 0, "\(cases)")
        #expect(cases["changes"] as? Int == 1)
        #expect(cases["select"] as? Int == 0, "\(cases["select_message"] ?? "")")
        #expect(cases["row"] as? String == "ok", "integer, real, text (with its NUL), blob and null read back as stored")
        // STL_ERR_BAD_REQUEST (1) with the host's reason, for each kind of bad parameter.
        #expect(cases["nan"] as? Int == 1)
        #expect((cases["nan_message"] as? String)?.contains("not a finite number") == true)
        #expect(cases["unknown_type"] as? Int == 1)
        #expect((cases["unknown_type_message"] as? String)?.contains("unknown value type 99") == true)
        #expect(cases["count"] as? Int == 1)
        #expect((cases["count_message"] as? String)?.contains("2 parameters but 1 values") == true)
        #expect(cases["utf8"] as? Int == 1)
        #expect(cases["commit"] as? Int == 1, "the host owns the transaction")
        // The JSON calls of 1.0 and the typed ones see the same row.
        #expect(cases["json_insert"] as? Int == 0)
        let jsonRows = cases["json_rows"] as? [[String: Any]] ?? []
        #expect(jsonRows.count == 1)
        #expect(jsonRows.first?["i"] as? Int == 7 && jsonRows.first?["r"] as? Double == 0.5 && jsonRows.first?["t"] as? String == "seven")
        #expect((cases["json_blob"] as? [[String: Any]])?.first?["b"] as? String == "AAF/gP8=", "a blob as base64 in JSON rows")
        let typedRow = cases["typed_row"] as? [Any] ?? []
        #expect(typedRow.count == 3 && typedRow.first as? Int == 7 && typedRow[1] as? Double == 0.5 && typedRow.last as? String == "seven")

        let read = Fixtures.json(try await host.request("GET", "/api/v1/cvalues/read").body)
        #expect(read["exec_on_read"] as? Int == 8, "a typed write on a read snapshot is refused like a JSON one")
        let refused = try await host.request("POST", "/api/v1/cvalues/syntax", json: "{}")
        #expect(refused.status == 400)
        let syntax = Fixtures.json(refused.body)
        #expect(syntax["syntax"] as? Int == 8, "STL_ERR_STORAGE, with the engine's words: \(syntax)")
        #expect((syntax["syntax_message"] as? String)?.isEmpty == false)
    }

    @Test("the kit reads typed rows exactly as it reads the JSON ones")
    func kitRowsMatchJSON() async throws {
        let host = try PluginTestHost(library: Fixtures.probeLibrary)
        // Values where JSON and typed cells could part: the integer limits, reals that JSON
        // writes without a fraction (which then read back as integers) and those it cannot,
        // -0, texts with escapes, long texts, nulls.
        let bodies = [
            #"{"i":9223372036854775807,"r":2.0,"t":"ü\n\"\\ é"}"#,
            #"{"i":-9223372036854775808,"r":-0.0,"t":""}"#,
            #"{"i":0,"r":9007199254740992}"#,
            #"{"r":9007199254740994,"t":"a text longer than fifteen bytes"}"#,
            #"{"i":1,"r":1e300,"t":"\u0001"}"#,
            #"{"i":2,"r":0.1}"#,
            #"{"i":3,"r":-2.5}"#,
            #"{}"#,
        ]
        var last: [String: JSONValue] = [:]
        for body in bodies {
            let answer = try await host.request("POST", "/api/v1/probe/cells", json: body)
            #expect(answer.status == 200, "\(String(decoding: answer.body, as: UTF8.self))")
            guard case .object(let members) = try JSONValue.parse(answer.body) else { Issue.record("not an object"); return }
            last = members
            #expect(members["changes"] == .int(1))
            #expect(members["same"] == .bool(true), "typed \(members["typed"] ?? .null) vs JSON \(members["json"] ?? .null)")
        }
        guard case .array(let rows)? = last["typed"], case .array(let decoded)? = last["decoded"] else {
            Issue.record("rows missing: \(last)")
            return
        }
        #expect(rows.count == bodies.count)
        #expect(decoded.count == bodies.count)
        #expect(rows.first?["i"] == .int(.max))
        #expect(rows.first?["r"] == .int(2), "an integral real reads as JSON would give it")
        #expect(rows.first?["t"] == .string("ü\n\"\\ é"))
        #expect(rows[1]["i"] == .int(.min))
        #expect(rows[3]["r"] == .double(9007199254740994))
        #expect(rows[5]["r"] == .double(0.1))
        #expect(rows[7] == .object(["i": .null, "r": .null, "t": .null]))
    }
}
