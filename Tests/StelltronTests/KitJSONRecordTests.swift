import Foundation
import IoTCore
import LedgerClient
import MarketCore
@testable import StelltronPluginKit
import Testing

/// `JSONRecord`: types that read and write their own JSON must give what `Codable` gives, value
/// for value and byte for byte, and where the record's path gives up, `Codable`'s answer (its
/// error messages) must be what the caller sees.
@Suite("kit JSON records")
struct KitJSONRecordTests {
    static let requests = [
        SchedulerRequest(device_id: "rpi-1", nodes: [NodeState(uid: "A", voltage: 3.92, soc: 72.4, state: "IDLE"),
                                                     NodeState(uid: "B/é\"\n", voltage: -0.5, soc: 50, state: "CHARGING")],
                         manual_transfer: ManualTransfer(sender: "A", receiver: "B")),
        SchedulerRequest(device_id: "x", nodes: [], manual_transfer: nil),
        SchedulerRequest(device_id: "", nodes: [NodeState(uid: "C", voltage: 1e-7, soc: 1e21, state: "")], manual_transfer: nil),
    ]
    static let answers = [
        SchedulerAnswer(commands: [Command(node_id: "A", action: "charge", reason: "SoC 10% < mean 50%"), Command(node_id: "\u{1}", action: "idle", reason: "")]),
        SchedulerAnswer(commands: []),
    ]

    @Test func recordsWriteWhatCodableWrites() throws {
        for request in Self.requests {
            #expect(try bytes(request.recordBytes) == String(decoding: try JSONValueEncoder.encodeJSON(request), as: UTF8.self))
        }
        for answer in Self.answers {
            #expect(try bytes(answer.recordBytes) == String(decoding: try JSONValueEncoder.encodeJSON(answer), as: UTF8.self))
        }
    }

    @Test func aPriceBreakdownWritesWhatCodableWrites() throws {
        let formula = PricingFormula()
        for inputs in [PricingFormula.Inputs(openSells: 3, openBuys: 7, meanSoC: 41.5, quality: 0.93, date: Date(timeIntervalSince1970: 1_764_000_000)),
                       PricingFormula.Inputs(openSells: 0, openBuys: 0, meanSoC: nil, quality: nil, date: Date(timeIntervalSince1970: 0))] {
            let breakdown = formula.quote(inputs, overrides: .init()).breakdown
            #expect(try bytes(breakdown.recordBytes) == String(decoding: try JSONValueEncoder.encodeJSON(breakdown), as: UTF8.self))
        }
    }

    @Test func aBalanceWritesWhatCodableWrites() throws {
        for balance in [LedgerAnswer.Balance(account: "GABC", balance: 1234.567891, balance_micro: 1_234_567_891),
                        LedgerAnswer.Balance(account: "escrow:o-1/\"é\u{1}", balance: 0, balance_micro: 0),
                        LedgerAnswer.Balance(account: "issuance", balance: -9e12, balance_micro: -9_000_000_000_000_000_000)] {
            #expect(try bytes(balance.recordBytes) == String(decoding: try JSONValueEncoder.encodeJSON(balance), as: UTF8.self))
        }
    }

    @Test func aTelemetrySummaryWritesWhatCodableWritesNullsIncluded() throws {
        for summary in [TelemetrySummary(mean_soc: 41.5, quality: 0.93), TelemetrySummary(mean_soc: nil, quality: 1),
                        TelemetrySummary(mean_soc: 100, quality: nil), TelemetrySummary(mean_soc: nil, quality: nil)] {
            #expect(try bytes(summary.recordBytes) == String(decoding: try JSONValueEncoder.encodeJSON(summary), as: UTF8.self))
        }
        #expect(try bytes(TelemetrySummary(mean_soc: nil, quality: nil).recordBytes) == #"{"mean_soc":null,"quality":null}"#)
    }

    @Test func recordsReadWhatCodableReads() throws {
        for request in Self.requests {
            let json = try JSONValueEncoder.encodeJSON(request)
            #expect(SchedulerRequest.read(from: json) == request)
            #expect(try JSONValueDecoder.decode(SchedulerRequest.self, from: JSONValue.parse(json)) == request)
        }
        for answer in Self.answers {
            #expect(SchedulerAnswer.read(from: try JSONValueEncoder.encodeJSON(answer)) == answer)
        }
        // Whitespace, unknown members of every kind, integral numbers, a null optional, a key given twice.
        let loose = #" { "nodes" : [ {"uid":"A","voltage":4,"soc":5e1,"state":"IDLE","extra":{"a":[1,{"b":null}]}} ] ,"#
            + #" "manual_transfer": null, "device_id":"first", "device_id":"p", "more": [true, false, "\u00e9"] } "#
        let read = try #require(SchedulerRequest.read(from: Data(loose.utf8)))
        #expect(read == (try JSONValueDecoder.decode(SchedulerRequest.self, from: JSONValue.parse(loose))))
        #expect(read == SchedulerRequest(device_id: "p", nodes: [NodeState(uid: "A", voltage: 4, soc: 50, state: "IDLE")], manual_transfer: nil))
    }

    /// Every body the record's path refuses is decoded again by `Codable`: the caller sees the
    /// same value or the same 400 message as with `Codable` alone.
    @Test func refusedBodiesGetCodablesAnswer() throws {
        let node = #"{"uid":"A","voltage":3.9,"soc":50,"state":"IDLE"}"#
        let bodies = [
            "", " ", "[]", #""x""#, "null", "{}", #"{"device_id":"p"}"#, #"{"nodes":[]}"#, #"{"device_id":null,"nodes":[]}"#,
            #"{"device_id":7,"nodes":[]}"#, #"{"device_id":"p","nodes":{}}"#, #"{"device_id":"p","nodes":[\#(node),7]}"#,
            #"{"device_id":"p","nodes":[{"uid":"A","voltage":"3.9","soc":50,"state":"IDLE"}]}"#,
            #"{"device_id":"p","nodes":[{"voltage":3.9,"soc":50,"state":"IDLE"}]}"#,
            #"{"device_id":"p","nodes":[\#(node),{"uid":"B","voltage":3.9,"soc":null,"state":"IDLE"}]}"#,
            #"{"device_id":"p","nodes":[],"manual_transfer":{"sender":"A"}}"#, #"{"device_id":"p","nodes":[],"manual_transfer":5}"#,
            #"{"device_id":"p","nodes":[]} x"#, #"{"device_id":"p","nodes":[],}"#, #"{"device_id":"p","nodes":[1e999]}"#,
            #"{"device_id":"p","nodes":[],"deep":\#(String(repeating: "[", count: 70) + String(repeating: "]", count: 70))}"#,
            #"{"device_id":"p","nodes":[\#(node)]}"#,
        ]
        for body in bodies { expectCodablesAnswer(SchedulerRequest.self, body) }
        #expect(throws: PluginError.self) { try JSONCoding.decodeBody(SchedulerRequest.self, from: Data(#"{"device_id":"p"}"#.utf8)) }
    }

    @Test func integersAndBooleansFollowCodablesRules() throws {
        let bodies = [#"{"count":2,"big":-9223372036854775808,"on":true}"#, #"{"count":2.0,"big":1e3,"on":false,"off":null}"#,
                      #"{"count":2.5,"big":1,"on":true}"#, #"{"count":1e30,"big":1,"on":true}"#, #"{"count":1,"big":1,"on":1}"#,
                      #"{"count":1,"big":9223372036854775808,"on":true}"#, #"{"count":1,"big":1,"on":true,"off":"no"}"#]
        for body in bodies { expectCodablesAnswer(Counter.self, body) }
        #expect(Counter.read(from: Data(bodies[1].utf8)) == Counter(count: 2, big: 1000, on: false, off: nil))
        let counter = Counter(count: -3, big: Int64.min, on: true, off: false)
        #expect(try bytes(counter.recordBytes) == String(decoding: try JSONValueEncoder.encodeJSON(counter), as: UTF8.self))
    }

    /// JSON has no NaN: a record holding one is encoded by `Codable`, which refuses it.
    @Test func nonFiniteNumbersAreRefusedAsCodableRefusesThem() {
        let node = NodeState(uid: "A", voltage: .nan, soc: .infinity, state: "IDLE")
        #expect(node.recordBytes == nil)
        #expect(throws: EncodingError.self) { try JSONCoding.encode(node) }
    }

    /// `JSONCoding.decodeBody` (the record's path first) gives what `Codable` alone gives for `body`.
    private func expectCodablesAnswer<Record: JSONRecord & Equatable>(_ type: Record.Type, _ body: String,
                                                                    sourceLocation: SourceLocation = #_sourceLocation) {
        let data = Data(body.utf8)
        let viaRecord = Result { try JSONCoding.decodeBody(type, from: data) }
        let viaCodable = Result { try JSONCoding.decodeBody(type, from: try JSONCoding.parseBody(data)) }
        switch (viaRecord, viaCodable) {
        case (.success(let a), .success(let b)): #expect(a == b, "\(body)", sourceLocation: sourceLocation)
        case (.failure(let a as PluginError), .failure(let b as PluginError)): #expect(a.message == b.message, "\(body)", sourceLocation: sourceLocation)
        default: Issue.record("\(body): \(viaRecord) vs \(viaCodable)", sourceLocation: sourceLocation)
        }
    }

    private func bytes(_ bytes: [UInt8]?) throws -> String {
        String(decoding: try #require(bytes), as: UTF8.self)
    }

    /// A record of the scalar kinds the bundled records do not use.
    struct Counter: JSONRecord, Equatable {
        var count: Int
        var big: Int64
        var on: Bool
        var off: Bool?

        init(count: Int, big: Int64, on: Bool, off: Bool?) {
            (self.count, self.big, self.on, self.off) = (count, big, on, off)
        }

        init(json: inout JSONRecordReader) throws {
            var count: Int?, big: Int64?, on: Bool?, off: Bool?
            try json.object { key, json in
                switch key {
                case "count": count = try json.int()
                case "big": big = try json.int64()
                case "on": on = try json.bool()
                case "off": off = try json.optional { try $0.bool() }
                default: try json.skip()
                }
            }
            self.init(count: try json.required(count), big: try json.required(big), on: try json.required(on), off: off)
        }

        func write(json: inout JSONRecordWriter) {
            json.object { json in
                json.member("big", big)
                json.member("count", count)
                json.member("off", off)
                json.member("on", on)
            }
        }
    }
}
