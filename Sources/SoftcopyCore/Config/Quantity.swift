/// Parsers for the quantities users type: durations and byte counts, with units.
public enum Quantity {
    /// Seconds as a number ("2", "0.5"), or with a unit: "500ms", "2s", "5m", "1h".
    public static func duration(_ text: String) -> Duration? {
        let t = text.trimmingWhitespace()
        let units: [(String, Double)] = [("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600)]
        for (suffix, scale) in units where t.hasSuffix(suffix) {
            let number = String(t.dropLast(suffix.count)).trimmingWhitespace()
            // "5m" must not be read as "5" + "m" of "ms"; the longer suffix is tried first.
            guard let value = Double(number), value.isFinite, value >= 0 else { return nil }
            return .secondsValue(value * scale)
        }
        guard let value = Double(t), value.isFinite, value >= 0 else { return nil }
        return .secondsValue(value)
    }

    /// Bytes as an integer, or with a unit: K/M/G/T (powers of 1000, also KB, MB...) and
    /// KiB/MiB/GiB/TiB (powers of 1024). "200M" is 200,000,000 bytes.
    public static func byteCount(_ text: String) -> UInt64? {
        var t = text.trimmingWhitespace()
        if t.hasSuffix("/s") { t = String(t.dropLast(2)) }
        let units: [(String, Double)] = [
            ("KiB", 1024), ("MiB", 1_048_576), ("GiB", 1_073_741_824), ("TiB", 1_099_511_627_776),
            ("KB", 1e3), ("MB", 1e6), ("GB", 1e9), ("TB", 1e12),
            ("K", 1e3), ("M", 1e6), ("G", 1e9), ("T", 1e12), ("B", 1),
        ]
        for (suffix, scale) in units where t.hasSuffix(suffix) {
            let number = String(t.dropLast(suffix.count)).trimmingWhitespace()
            guard let value = Double(number), value.isFinite, value >= 0, value * scale < 1.8e19 else { return nil }
            return UInt64((value * scale).rounded())
        }
        return UInt64(t)
    }

    /// "1.5 GiB", "12.0 MiB", "512 B": binary units, for people.
    public static func formatBytes(_ bytes: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : "\(format(value, decimals: 1)) \(units[unit])"
    }

    /// "143 MiB/s": binary units, the same family as `formatBytes`, so a rate and the
    /// sizes beside it read in one unit.
    public static func formatRate(bytesPerSecond: Double) -> String {
        let units = ["B/s", "KiB/s", "MiB/s", "GiB/s"]
        var value = bytesPerSecond
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return "\(format(value, decimals: value < 10 ? 1 : 0)) \(units[unit])"
    }

    /// "0.35 s", "12 s", "3 min 20 s", "2 h 05 min".
    public static func formatDuration(_ d: Duration) -> String {
        let s = d.secondsValue
        if s < 10 { return "\(format(s, decimals: 2)) s" }
        if s < 60 { return "\(format(s, decimals: 1)) s" }
        let total = Int(s.rounded())
        if total < 3600 { return "\(total / 60) min \(total % 60) s" }
        let minutes = (total % 3600) / 60
        return "\(total / 3600) h \(minutes < 10 ? "0" : "")\(minutes) min"
    }

    /// Fixed-point formatting without Foundation.
    public static func format(_ value: Double, decimals: Int) -> String {
        guard value.isFinite else { return "\(value)" }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        let integer = Int(scaled / scale)
        var fraction = String(Int(scaled) - integer * Int(scale))
        while fraction.count < decimals { fraction = "0" + fraction }
        let sign = value < 0 && scaled != 0 ? "-" : ""
        return decimals == 0 ? "\(sign)\(integer)" : "\(sign)\(integer).\(fraction)"
    }
}

extension StringProtocol {
    public func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }) else { return "" }
        let last = lastIndex(where: { !isSpace($0) })!
        return String(self[first...last])
    }
}
