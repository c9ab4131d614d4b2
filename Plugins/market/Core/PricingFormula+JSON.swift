import StelltronPluginKit

// Every price quote answers its breakdown: it writes its own JSON (`JSONRecordEncodable`),
// members in ascending key order; the kit's record tests compare it with `Codable`'s bytes.
extension PricingFormula.Breakdown: JSONRecordEncodable {
    public func write(json: inout JSONRecordWriter) {
        json.object { json in
            json.member("base_price", base_price)
            json.member("f_dist", f_dist)
            json.member("f_quality", f_quality)
            json.member("f_sd", f_sd)
            json.member("f_soc", f_soc)
            json.member("f_time", f_time)
            json.member("final_price", final_price)
        }
    }
}
