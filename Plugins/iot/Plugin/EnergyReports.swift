import Foundation
import IoTCore
import LedgerClient
import StelltronPluginKit

/// `/iot/energy/report`: a delivered transfer mints LT to the device's owner (× quality), lists
/// what it minted for sale at the pricing slot's quote, and records its carbon credit — all in the
/// request's transaction. Only a device the trust policy accepts mints, and never more than its
/// rated power allows in the time the report covers. A repeated `report_id` answers the first
/// result again, minting nothing.
struct EnergyReports {
    let host: PluginHost
    let policy: TrustPolicy

    struct Report: Decodable {
        var device_id: String
        var sender_uid: String?
        var receiver_uid: String?
        var kwh_transferred: Double
        var duration_seconds: Double?
        var avg_voltage: Double?
        var avg_current: Double?
        var report_id: String?
    }

    struct Minted: Codable {
        let status: String
        let tokens_minted: Double
        let quality_factor: Double
        let sell_order_id: String
        let dynamic_price: Double
        let co2_saved_kg: Double
        let carbon_credit: Double
        let tx_hash: String
        let message: String
    }

    func report(_ request: PluginRequest) throws -> PluginResponse {
        let report = try JSONCoding.decodeBody(Report.self, from: request.body)
        try StelltronKit.Identifiers.validate(report.device_id)
        guard report.kwh_transferred.isFinite, (0.001...10.0).contains(report.kwh_transferred) else {
            throw PluginError.badRequest("kwh_transferred must be within 0.001–10.0")
        }
        if let voltage = report.avg_voltage, !TelemetryRules.isVoltage(voltage) {
            throw PluginError.badRequest("avg_voltage must be \(TelemetryRules.voltageRule)")
        }
        if let duration = report.duration_seconds, !(duration.isFinite && duration > 0 && duration <= EnergyWindow.maxDurationSeconds) {
            throw PluginError.badRequest("duration_seconds must be greater than 0 and at most \(Int(EnergyWindow.maxDurationSeconds))")
        }
        if let reportID = report.report_id { try StelltronKit.Identifiers.validate(reportID, field: "report_id") }
        // The trust policy speaks first (signature, commissioning), before anything else is looked
        // at; an unknown device has no owner (409, as before).
        let post = DevicePost(deviceID: report.device_id, method: request.method, path: request.path, headers: request.headers, body: request.body)
        let device: DeviceAuthentication.Accepted
        do {
            device = try DeviceAuthentication(host: host, policy: policy).authenticate(post)
        } catch let error as PluginError where error.kind == .notFound {
            throw PluginError.conflict("device \(report.device_id) has no owner: register it with /api/v1/iot/device/register first")
        }
        if let reportID = report.report_id,
           let stored = try host.query("SELECT response FROM iot_reports WHERE device_id = ? AND report_id = ?",
                                       [.text(report.device_id), .text(reportID)]).first?["response"]?.stringValue {
            return PluginResponse(status: 200, body: Data(stored.utf8))
        }
        guard let owner = device.owner_id else {
            throw PluginError.conflict("device \(report.device_id) has no owner: register it with /api/v1/iot/device/register first")
        }
        try creditInterval(report, device: device)
        let quality = EnergyMath.qualityFactor(averageVoltage: report.avg_voltage)
        let tokens = EnergyMath.tokensMinted(kwh: report.kwh_transferred, quality: quality)
        let ledger = LedgerClient(host: host)
        let reference = report.report_id ?? "report-\(Int64(host.now().timeIntervalSince1970 * 1000))"
        let mintHash = try ledger.mint(to: owner, Int64((tokens * 1_000_000).rounded()), reason: "energy_report", reference: reference,
                                       sourceDevice: report.device_id, qualityFactor: quality, kwh: report.kwh_transferred)
        let (orderID, price) = try listForSale(owner: owner, kwh: report.kwh_transferred, tokens: tokens)
        let co2 = EnergyMath.co2SavedKg(kwh: report.kwh_transferred)
        let credit = EnergyMath.carbonCredit(co2Kg: co2)
        try ledger.record(LedgerRequest.Carbon(device_id: report.device_id, owner: owner, kwh: report.kwh_transferred,
                                               co2_saved_kg: co2, carbon_credit: credit, reference: reference))
        let listing = orderID.isEmpty ? "not listed" : String(format: "auto-listed at %.2f XLM/kWh", price)
        let minted = Minted(
            status: "minted", tokens_minted: tokens, quality_factor: (quality * 1000).rounded() / 1000, sell_order_id: orderID,
            dynamic_price: price, co2_saved_kg: (co2 * 10_000).rounded() / 10_000, carbon_credit: (credit * 1_000_000).rounded() / 1_000_000,
            tx_hash: mintHash,
            message: String(format: "%.2f LT tokens minted for %.4f kWh → %@", tokens, report.kwh_transferred, listing))
        let body = try JSONCoding.encode(minted)
        if let reportID = report.report_id {
            try host.execute("INSERT INTO iot_reports (device_id, report_id, response) VALUES (?, ?, ?)",
                             [.text(report.device_id), .text(reportID), .text(String(decoding: body, as: UTF8.self))])
        }
        // The contract's payload is the answer's fields themselves, with whose energy it was beside.
        guard case .object(var payload) = try JSONValue.parse(body) else { throw PluginError.internalError("the report answer is not an object") }
        payload["device_id"] = .string(report.device_id)
        payload["owner"] = .string(owner)
        payload["kwh"] = .double(report.kwh_transferred)
        try host.emit("energy_mint", json: JSONValue.object(payload).jsonData)
        return PluginResponse(status: 200, body: body)
    }

    /// Checks the report against the device's rating over the interval it covers (behaviour §13)
    /// and moves the device's credited-until mark to now.
    private func creditInterval(_ report: Report, device: DeviceAuthentication.Accepted) throws {
        let now = Int64(host.now().timeIntervalSince1970 * 1000)
        do {
            _ = try EnergyWindow.check(kwh: report.kwh_transferred, durationSeconds: report.duration_seconds, ratedKW: device.rated_kw,
                                       previousEndMs: device.energy_until_ms ?? now, nowMs: now)
        } catch EnergyWindow.Refusal.overlaps(let previousEnd) {
            let end = Timestamp.iso8601(Date(timeIntervalSince1970: Double(previousEnd) / 1000))
            throw PluginError.conflict("the report overlaps energy already credited to device \(report.device_id) (until \(end)): duration_seconds reaches too far back")
        } catch EnergyWindow.Refusal.exceedsRating(let maxKWh, let seconds) {
            throw PluginError.badRequest(String(format: "%.4f kWh in %.0f s exceeds the %.3g kW rating of device %@ (at most %.4f kWh)",
                                                report.kwh_transferred, seconds, device.rated_kw, report.device_id, maxKWh))
        }
        try host.execute("UPDATE iot_devices SET energy_until_ms = ? WHERE device_id = ?", [.int(now), .text(report.device_id)])
    }

    /// Lists what this report minted, and nothing the owner held before: `tokens / 1000` kWh (a
    /// sell reserves 1000 LT per kWh), at most the energy delivered. Below the market's minimum
    /// order, or without a market plugin, nothing is listed and the price comes from the slot.
    private func listForSale(owner: String, kwh: Double, tokens: Double) throws -> (orderID: String, price: Double) {
        let listable = (min(kwh, tokens / 1000) * 1_000_000).rounded(.down) / 1_000_000
        struct AutoSell: Encodable { let owner: String; let kwh_amount: Double }
        struct Listed: Decodable { let order_id: String; let price: Double }
        do {
            if listable >= 0.001 {
                let listed = try host.call("market.list_auto_sell", AutoSell(owner: owner, kwh_amount: listable), as: Listed.self)
                return (listed.order_id, listed.price)
            }
        } catch let error as PluginError where error.kind == .unknownService {
            // No market loaded: fall through to a bare quote.
        } catch let error as PluginError where error.kind == .conflict {
            // The owner is at the market's open-order limit: the energy is minted, not listed.
            host.log(.info, "energy of \(owner) not listed: \(error.message)")
        }
        struct Quote: Decodable { let price: Double }
        let quote = try? host.call("pricing.quote", ["record": "always"], as: Quote.self)
        return ("", quote?.price ?? 0)
    }
}
