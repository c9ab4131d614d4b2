import StelltronPluginKit

/// The JSON answers of the ledger's services and routes that other code reads or tests compare:
/// one type per answer, so the service and the public route write the same shape.
public enum LedgerAnswer {
    /// An account's balance: LT as a decimal for people, micro-LT as an integer for code.
    public struct Balance: Codable, Sendable, Equatable {
        public var account: String
        public var balance: Double
        public var balance_micro: Int64

        public init(account: String, balance: Double, balance_micro: Int64) {
            self.account = account
            self.balance = balance
            self.balance_micro = balance_micro
        }
    }
}

// `GET /api/v1/ledger/balance/:wallet` answers one on every call: it writes its own JSON
// (`JSONRecordEncodable`, members in ascending key order) instead of going through `Codable`'s
// containers, 4 % of that read's samples (BENCHMARKS.md, issue 16). The kit's record tests
// compare its bytes with `Codable`'s.
extension LedgerAnswer.Balance: JSONRecordEncodable {
    public func write(json: inout JSONRecordWriter) {
        json.object { json in
            json.member("account", account)
            json.member("balance", balance)
            json.member("balance_micro", balance_micro)
        }
    }
}
