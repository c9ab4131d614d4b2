import StelltronPluginKit

// A price quote's answer and the telemetry it reads go through the kit's records
// (`JSONRecordEncodable`, `JSONRecordDecodable`): `GET /api/v1/market/price` makes one per call.

extension Pricing.Answer: JSONRecordEncodable {
    func write(json: inout JSONRecordWriter) {
        json.object { json in
            json.member("breakdown", breakdown)
            json.member("demand", demand)
            json.member("price", price)
            json.member("supply", supply)
            json.member("timestamp", timestamp)
            json.member("tx_hash", tx_hash)
        }
    }
}

extension Pricing.Telemetry: JSONRecordDecodable {
    init(json: inout JSONRecordReader) throws {
        var meanSoC: Double?, quality: Double?
        try json.object { key, json in
            switch key {
            case "mean_soc": meanSoC = try json.optional { try $0.double() }
            case "quality": quality = try json.optional { try $0.double() }
            default: try json.skip()
            }
        }
        self.init(mean_soc: meanSoC, quality: quality)
    }
}
