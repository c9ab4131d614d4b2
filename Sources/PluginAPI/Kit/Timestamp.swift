import Foundation

/// Timestamps as the API writes them: ISO 8601 in UTC to the second (`2026-12-04T02:12:41Z`),
/// what `Date.formatted(.iso8601)` writes, formatted from the calendar fields directly. Building
/// and running the format style was 1.3 % of a price request's samples and 2 % of the single
/// writer's on node-data pings. In the kit so that plugins and the host write them one way.
public enum Timestamp {
    public static func iso8601(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var fields = tm()
        gmtime_r(&seconds, &fields)
        let year = Int(fields.tm_year) + 1900
        guard (0...9999).contains(year) else { return wideYear(year, fields) }
        // Twenty ASCII bytes written in place: the interpolation of six padded fields made a
        // string per field, 0.85 µs of a price request (`perf`; BENCHMARKS.md, issue 16,
        // sixteenth session).
        return String(unsafeUninitializedCapacity: 20) { out in
            func put(_ value: Int, digits: Int, at offset: Int) {
                var value = value
                for index in stride(from: offset + digits - 1, through: offset, by: -1) {
                    out[index] = UInt8(ascii: "0") + UInt8(value % 10)
                    value /= 10
                }
            }
            put(year, digits: 4, at: 0)
            out[4] = UInt8(ascii: "-")
            put(Int(fields.tm_mon) + 1, digits: 2, at: 5)
            out[7] = UInt8(ascii: "-")
            put(Int(fields.tm_mday), digits: 2, at: 8)
            out[10] = UInt8(ascii: "T")
            put(Int(fields.tm_hour), digits: 2, at: 11)
            out[13] = UInt8(ascii: ":")
            put(Int(fields.tm_min), digits: 2, at: 14)
            out[16] = UInt8(ascii: ":")
            put(Int(fields.tm_sec), digits: 2, at: 17)
            out[19] = UInt8(ascii: "Z")
            return 20
        }
    }

    /// A year before 0 or after 9999, as Foundation writes it (at least four digits).
    private static func wideYear(_ year: Int, _ fields: tm) -> String {
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : String(value) }
        let digits = String(year)
        return "\(String(repeating: "0", count: max(0, 4 - digits.count)))\(digits)-\(two(fields.tm_mon + 1))-\(two(fields.tm_mday))"
            + "T\(two(fields.tm_hour)):\(two(fields.tm_min)):\(two(fields.tm_sec))Z"
    }
}
