import StelltronPluginKit

/// Who may cause LT to be minted (behaviour §13), read from the iot plugin's `[plugin.config]`:
///
///     trust = "commissioned"      # the default; "open" is for demos only
///     operators = ["G..."]        # micro-grid operator wallets: may commission devices
///     max_rated_kw = 10.0         # the largest rating an operator may give a device
///
/// `commissioned`: a device mints or earns only once an operator has commissioned it (bound its
/// public key and rated power), and only through posts signed with its key. `open`: any claimed
/// device mints, unsigned if it has no key; still replay-proof when it has one, and still bounded
/// by its rating (uncommissioned devices are rated `max_rated_kw`).
public struct TrustPolicy: Sendable, Equatable {
    public enum Mode: String, Sendable {
        case commissioned, open
    }

    public var mode: Mode
    public var operators: Set<String>
    public var maxRatedKW: Double

    public static let defaultMaxRatedKW = 10.0

    public init(mode: Mode = .commissioned, operators: Set<String> = [], maxRatedKW: Double = defaultMaxRatedKW) {
        self.mode = mode
        self.operators = operators
        self.maxRatedKW = maxRatedKW
    }

    /// Reads the plugin's config; a wrong value refuses the plugin (and so the host) at start.
    public init(config: JSONValue) throws {
        guard case .object(let members) = config else {
            self.init()
            return
        }
        var policy = TrustPolicy()
        if let trust = members["trust"] {
            guard let text = trust.stringValue, let mode = Mode(rawValue: text) else {
                throw PluginError.badRequest(#"iot config: trust must be "commissioned" or "open""#)
            }
            policy.mode = mode
        }
        if let operators = members["operators"] {
            guard case .array(let list) = operators, list.allSatisfy({ $0.stringValue != nil }) else {
                throw PluginError.badRequest("iot config: operators must be a list of wallet addresses")
            }
            policy.operators = Set(list.compactMap(\.stringValue))
        }
        if let rating = members["max_rated_kw"] {
            guard let value = rating.doubleValue, value.isFinite, value > 0 else {
                throw PluginError.badRequest("iot config: max_rated_kw must be a positive number")
            }
            policy.maxRatedKW = value
        }
        self = policy
    }

    /// What a device may do under this policy, from what is stored about it.
    public func standing(of device: DeviceStanding.Record) -> DeviceStanding {
        let commissioned = device.commissionedMs != nil && device.publicKey != nil
        let rating = commissioned ? (device.ratedKW ?? maxRatedKW) : maxRatedKW
        switch mode {
        case .commissioned:
            return DeviceStanding(mayMint: commissioned, mustSign: true, ratedKW: rating,
                                  refusal: commissioned ? nil : "device \(device.deviceID) is not commissioned by a micro-grid operator")
        case .open:
            return DeviceStanding(mayMint: true, mustSign: device.publicKey != nil, ratedKW: rating, refusal: nil)
        }
    }
}

/// A device's standing under the trust policy.
public struct DeviceStanding: Sendable, Equatable {
    /// What the policy reads: the device's stored identity.
    public struct Record: Sendable, Equatable {
        public var deviceID: String
        public var publicKey: String?
        public var commissionedMs: Int64?
        public var ratedKW: Double?

        public init(deviceID: String, publicKey: String?, commissionedMs: Int64?, ratedKW: Double?) {
            self.deviceID = deviceID
            self.publicKey = publicKey
            self.commissionedMs = commissionedMs
            self.ratedKW = ratedKW
        }
    }

    public var mayMint: Bool
    /// Whether its money-moving posts must carry a valid signature.
    public var mustSign: Bool
    public var ratedKW: Double
    /// Why it may not mint, when it may not.
    public var refusal: String?

    public init(mayMint: Bool, mustSign: Bool, ratedKW: Double, refusal: String?) {
        self.mayMint = mayMint
        self.mustSign = mustSign
        self.ratedKW = ratedKW
        self.refusal = refusal
    }
}
