import Foundation
import GRDB
import StelltronHost
import StelltronTesting
import Testing

/// Reads on an event loop keep their SQLite snapshot for the loop's next read while nothing was
/// committed (`CallingThreadReaders`). Over real sockets, where reads run on the loops: a read
/// after a commit sees it, and a kept snapshot ends by itself.
@Suite("kept read snapshots", .enabled(if: TestDatabase.postgresURL == nil, "SQLite only: PostgreSQL reads keep nothing"))
struct KeptSnapshotTests {
    @Test func everyReadAfterACommitSeesIt() async throws {
        try await DomainHost.with(["ledger"], over: .live) { host in
            let account = TestWallet().address
            for minted in 1...30 {
                // The first read keeps a snapshot on its loop; the mint commits after it.
                #expect(try await balance(host, account) == minted - 1)
                try await host.mint(account, lt: 1)
                #expect(try await balance(host, account) == minted, "a read right after the commit saw the snapshot before it")
            }
        }
    }

    /// A snapshot still open holds WAL frames, and `wal_checkpoint(TRUNCATE)` cannot reset the WAL
    /// under it: once no read reuses it, it ends on its loop and the checkpoint completes.
    @Test func aSnapshotNoReadReusesEndsByItself() async throws {
        try await DomainHost.with(["ledger"], over: .live) { host in
            let account = TestWallet().address
            try await host.mint(account, lt: 1)
            for _ in 0..<10 { #expect(try await balance(host, account) == 1) }
            let store = try #require(host.runtime.store as? Store)
            var configuration = Configuration()
            configuration.busyMode = .immediateError
            let outsider = try DatabaseQueue(path: store.pool.path, configuration: configuration)
            defer { try? outsider.close() }
            var busy = 1
            for _ in 0..<200 where busy != 0 {
                busy = try truncateWAL(outsider)
                if busy != 0 { try await Task.sleep(for: .milliseconds(10)) }
            }
            #expect(busy == 0, "a reader kept its snapshot for two seconds with no read reusing it")
        }
    }

    /// 0 when the checkpoint reset the WAL, 1 when a reader's snapshot stopped it. Synchronous:
    /// inside an `async` function the compiler picks GRDB's async write.
    private func truncateWAL(_ connection: DatabaseQueue) throws -> Int {
        try connection.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)") } ?? 1
    }

    private func balance(_ host: DomainHost, _ account: String) async throws -> Int {
        let (status, body) = try await host.get("/api/v1/ledger/balance/\(account)")
        #expect(status == .ok)
        return Fixtures.json(body)["balance"] as? Int ?? -1
    }
}
