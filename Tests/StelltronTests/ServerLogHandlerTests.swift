import Foundation
import Logging
@testable import StelltronRuntime
import Testing

/// The server's log lines, as `ServerLogHandler` renders them (the CLI tests read them from a
/// running server; these check what a request does not reach: an event's error).
@Suite struct ServerLogHandlerTests {
    struct StorageWentAway: Error, CustomStringConvertible {
        var description: String { "the disk is gone" }
    }

    private func event(_ error: (any Error)?) -> LogEvent {
        LogEvent(level: .error, message: "commit failed", error: error, metadata: ["request": "r-1"],
                 source: "Runtime", file: #fileID, function: #function, line: #line)
    }

    @Test func textLinesNameAnEventsErrorAmongTheSortedMetadata() {
        var handler = ServerLogHandler(label: "stelltron", format: .text)
        handler[metadataKey: "plugin"] = "ledger"
        let line = String(decoding: handler.line(for: event(StorageWentAway())), as: UTF8.self)
        #expect(line.hasSuffix(" error stelltron: error.message=the disk is gone error.type=StelltronTests.ServerLogHandlerTests.StorageWentAway plugin=ledger request=r-1 [Runtime] commit failed\n"), "\(line)")
        let plain = String(decoding: handler.line(for: event(nil)), as: UTF8.self)
        #expect(plain.hasSuffix(" error stelltron: plugin=ledger request=r-1 [Runtime] commit failed\n"), "\(plain)")
    }

    @Test func jsonLinesAreOneObjectWithTheErrorAndTheMetadata() throws {
        var handler = ServerLogHandler(label: "stelltron", format: .json)
        handler[metadataKey: "plugin"] = "ledger"
        let line = handler.line(for: event(StorageWentAway()))
        #expect(line.last == UInt8(ascii: "\n") && line.dropLast().firstIndex(of: UInt8(ascii: "\n")) == nil)
        let object = try #require(try JSONSerialization.jsonObject(with: line) as? [String: String])
        #expect(object["level"] == "error" && object["label"] == "stelltron" && object["message"] == "commit failed")
        #expect(object["plugin"] == "ledger" && object["request"] == "r-1" && object["error.message"] == "the disk is gone")
        #expect(object["timestamp"]?.isEmpty == false)
    }
}
