import StelltronPluginKit

/// The JSON requests of the ledger's services: one set of types, encoded by `LedgerClient` and
/// decoded by the ledger plugin, so a field exists on both sides or on neither. Amounts are
/// integer micro-LT; optional fields may be left out of the JSON.
public enum LedgerRequest {
    public struct Mint: Codable, Sendable {
        public var account: String
        public var amount_micro: Int64
        /// `mint` (energy), `reward` (DePIN) or `yield` (staking); `mint` when absent.
        public var kind: String?
        public var reason: String
        public var reference: String?
        public var source_device: String?
        public var quality_factor: Double?
        public var kwh: Double?
        public var memo: String?

        public init(account: String, amount_micro: Int64, kind: String? = nil, reason: String, reference: String? = nil,
                    source_device: String? = nil, quality_factor: Double? = nil, kwh: Double? = nil, memo: String? = nil) {
            self.account = account
            self.amount_micro = amount_micro
            self.kind = kind
            self.reason = reason
            self.reference = reference
            self.source_device = source_device
            self.quality_factor = quality_factor
            self.kwh = kwh
            self.memo = memo
        }
    }

    public struct Burn: Codable, Sendable {
        public var account: String
        public var amount_micro: Int64
        public var reason: String
        public var reference: String?

        public init(account: String, amount_micro: Int64, reason: String, reference: String? = nil) {
            self.account = account
            self.amount_micro = amount_micro
            self.reason = reason
            self.reference = reference
        }
    }

    public struct Transfer: Codable, Sendable {
        public var from: String
        public var to: String
        public var amount_micro: Int64
        /// `transfer` or `fee`; `transfer` when absent.
        public var kind: String?
        public var reference: String?
        public var memo: String?

        public init(from: String, to: String, amount_micro: Int64, kind: String? = nil, reference: String? = nil, memo: String? = nil) {
            self.from = from
            self.to = to
            self.amount_micro = amount_micro
            self.kind = kind
            self.reference = reference
            self.memo = memo
        }
    }

    /// Into `escrow:<escrow>`; the reference defaults to the escrow name.
    public struct Lock: Codable, Sendable {
        public var account: String
        public var escrow: String
        public var amount_micro: Int64
        public var reference: String?

        public init(account: String, escrow: String, amount_micro: Int64, reference: String? = nil) {
            self.account = account
            self.escrow = escrow
            self.amount_micro = amount_micro
            self.reference = reference
        }
    }

    /// Out of `escrow:<escrow>`; the reference defaults to the escrow name.
    public struct Release: Codable, Sendable {
        public var escrow: String
        public var to: String
        public var amount_micro: Int64
        public var reference: String?

        public init(escrow: String, to: String, amount_micro: Int64, reference: String? = nil) {
            self.escrow = escrow
            self.to = to
            self.amount_micro = amount_micro
            self.reference = reference
        }
    }

    public struct Balance: Codable, Sendable {
        public var account: String

        public init(account: String) {
            self.account = account
        }
    }

    public struct Trade: Codable, Sendable {
        public var id: String
        public var donor_id: String
        public var recipient_id: String
        public var kwh_amount: Double
        public var token_price: Double
        public var token_amount: Double
        public var fee: Double
        /// `Completed` when absent.
        public var status: String?

        public init(id: String, donor_id: String, recipient_id: String, kwh_amount: Double, token_price: Double,
                    token_amount: Double, fee: Double, status: String? = nil) {
            self.id = id
            self.donor_id = donor_id
            self.recipient_id = recipient_id
            self.kwh_amount = kwh_amount
            self.token_price = token_price
            self.token_amount = token_amount
            self.fee = fee
            self.status = status
        }
    }

    public struct Carbon: Codable, Sendable {
        public var device_id: String
        public var owner: String
        public var kwh: Double
        public var co2_saved_kg: Double
        public var carbon_credit: Double
        /// The device id when absent.
        public var reference: String?

        public init(device_id: String, owner: String, kwh: Double, co2_saved_kg: Double, carbon_credit: Double, reference: String? = nil) {
            self.device_id = device_id
            self.owner = owner
            self.kwh = kwh
            self.co2_saved_kg = co2_saved_kg
            self.carbon_credit = carbon_credit
            self.reference = reference
        }
    }

    public struct Price: Codable, Sendable {
        public var price: Double
        public var supply: Double
        public var demand: Double
        /// The pricing formula's factors, chained as given.
        public var breakdown: JSONValue?

        public init(price: Double, supply: Double, demand: Double, breakdown: JSONValue? = nil) {
            self.price = price
            self.supply = supply
            self.demand = demand
            self.breakdown = breakdown
        }
    }
}
