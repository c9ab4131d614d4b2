import Foundation
import IoTCore
import StelltronPluginKit

/// Decides whether a post that mints or earns comes from a device allowed to: checks its
/// signature (method, path, timestamp, nonce, body) against the stored public key, spends the
/// nonce, and applies the trust policy. Energy reports call it directly; the DePIN plugin through
/// the `iot.authenticate` service. Telemetry never goes through here: it moves no money.
struct DeviceAuthentication {
    let host: PluginHost
    let policy: TrustPolicy

    /// Who the post speaks for, once accepted.
    struct Accepted: Codable {
        let device_id: String
        let owner_id: String?
        let commissioned: Bool
        let rated_kw: Double
        let signed: Bool
        /// The end of the last credited energy interval (commissioning or claim when none yet).
        let energy_until_ms: Int64?
    }

    /// Accepts the post or throws: 404 unknown device, 401 bad/missing/replayed signature,
    /// 403 a device the policy does not let mint.
    func authenticate(_ post: DevicePost) throws -> Accepted {
        try StelltronKit.Identifiers.validate(post.device_id)
        guard let device = try Devices(host: host, policy: policy).identity(post.device_id) else {
            throw PluginError.notFound("device \(post.device_id) is not known to this host")
        }
        let standing = policy.standing(of: device.record)
        var signed = false
        if let key = device.publicKey, standing.mustSign || !post.headers.isEmpty {
            try verify(post.headers, key: key, post: post)
            signed = true
        } else if standing.mustSign {
            throw PluginError.forbidden(standing.refusal ?? "device \(post.device_id) has no key to sign with")
        }
        if !standing.mayMint { throw PluginError.forbidden(standing.refusal ?? "device \(post.device_id) may not mint") }
        return Accepted(device_id: post.device_id, owner_id: device.ownerID, commissioned: device.commissionedMs != nil,
                        rated_kw: standing.ratedKW, signed: signed,
                        energy_until_ms: device.energyUntilMs ?? device.commissionedMs ?? device.claimedMs)
    }

    private func verify(_ headers: DeviceSignature.Headers, key: String, post: DevicePost) throws {
        let now = host.now()
        let nonce: String
        do {
            nonce = try DeviceSignature.verify(publicKey: StelltronKit.Hex.decode(key) ?? [], headers: headers, method: post.method, path: post.path,
                                               bodySHA256: post.body_sha256, now: Int64(now.timeIntervalSince1970))
        } catch DeviceSignature.Failure.missing {
            throw PluginError(.unauthorized, "device \(post.device_id) must sign this post (X-Device-Timestamp, X-Device-Nonce, X-Device-Signature)")
        } catch DeviceSignature.Failure.malformed {
            throw PluginError(.unauthorized, "X-Device-Timestamp must be unix seconds, X-Device-Nonce 16–64 of A–Z a–z 0–9 - _, X-Device-Signature 128 hex digits")
        } catch DeviceSignature.Failure.stale {
            throw PluginError(.unauthorized, "X-Device-Timestamp is more than \(DeviceSignature.allowedSkew) s from the host clock")
        } catch {
            throw PluginError(.unauthorized, "invalid device signature")
        }
        // A nonce is kept while its timestamp could still pass the skew check.
        let nowMs = Int64(now.timeIntervalSince1970 * 1000)
        try host.execute("DELETE FROM iot_device_nonces WHERE device_id = ? AND seen_ms < ?",
                         [.text(post.device_id), .int(nowMs - 2 * DeviceSignature.allowedSkew * 1000)])
        let fresh = try host.execute("INSERT INTO iot_device_nonces (device_id, nonce, seen_ms) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                                     [.text(post.device_id), .text(nonce), .int(nowMs)]).changes
        guard fresh == 1 else { throw PluginError(.unauthorized, "replayed device post: nonce \(nonce) was already used") }
    }
}
