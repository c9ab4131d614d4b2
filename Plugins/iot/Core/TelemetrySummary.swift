import StelltronPluginKit

/// `iot.telemetry_summary`'s answer: the mean state of charge of the nodes seen in the last 10
/// minutes and the devices' mean quality score, each null when nothing reported it. Both members
/// are always there (the service answered a dictionary with nulls before it answered this).
///
/// A record (`JSONRecordEncodable`): every `GET /api/v1/market/price` asks for one.
public struct TelemetrySummary: Encodable, JSONRecordEncodable, Equatable {
    public let mean_soc: Double?
    public let quality: Double?

    public init(mean_soc: Double?, quality: Double?) {
        self.mean_soc = mean_soc
        self.quality = quality
    }

    private enum CodingKeys: String, CodingKey {
        case mean_soc, quality
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(mean_soc, forKey: .mean_soc)
        try container.encode(quality, forKey: .quality)
    }

    public func write(json: inout JSONRecordWriter) {
        json.object { json in
            if let mean_soc { json.member("mean_soc", mean_soc) } else { json.nullMember("mean_soc") }
            if let quality { json.member("quality", quality) } else { json.nullMember("quality") }
        }
    }
}
