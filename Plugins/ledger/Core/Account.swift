/// A ledger account: a user (its Stellar address), the staking `pool`, an escrow `escrow:<ref>`,
/// or one of the two system accounts every mint starts from (`issuance`) and every burn ends in
/// (`retired`). Only system accounts may go below zero: issuance is minus everything minted.
public enum Account: Equatable, Sendable, CustomStringConvertible {
    case user(String)
    case pool
    case escrow(String)
    case issuance
    case retired

    public init?(_ id: String) {
        switch id {
        case "pool": self = .pool
        case "issuance": self = .issuance
        case "retired": self = .retired
        default:
            if id.hasPrefix("escrow:") {
                let reference = String(id.dropFirst("escrow:".count))
                guard (1...128).contains(reference.utf8.count), !reference.contains(where: { $0.isWhitespace }) else { return nil }
                self = .escrow(reference)
            } else if Self.looksLikeStellarAddress(id) {
                self = .user(id)
            } else {
                return nil
            }
        }
    }

    public var description: String {
        switch self {
        case .user(let address): return address
        case .pool: return "pool"
        case .escrow(let reference): return "escrow:\(reference)"
        case .issuance: return "issuance"
        case .retired: return "retired"
        }
    }

    /// Whether the account holds circulating LT (everything but the two system accounts).
    public var isCirculating: Bool {
        switch self {
        case .issuance, .retired: return false
        default: return true
        }
    }

    /// `G` + 55 base32 characters. The host checks the checksum at sign-in; here the shape is
    /// enough to keep typos and injected names out of the books.
    static func looksLikeStellarAddress(_ id: String) -> Bool {
        id.utf8.count == 56 && id.hasPrefix("G") && id.unicodeScalars.allSatisfy { ("A"..."Z").contains($0) || ("2"..."7").contains($0) }
    }
}
