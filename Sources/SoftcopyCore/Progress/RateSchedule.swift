/// `max_rate`: one rate, or a daily timetable in the form rclone's `--bwlimit` users
/// know, `"08:00,200M 20:00,off"`: from 08:00 reads are held to 200 MB/s, from 20:00
/// they are not held at all, and before the first time of the day the last entry
/// still holds (the timetable wraps around midnight). Times are the coordinator's
/// local time; a rate is bytes per second (`200M`, `1.5GiB`) or `off`.
public struct RateSchedule: Sendable, Hashable, CustomStringConvertible {
    public struct Entry: Sendable, Hashable {
        /// Minutes after midnight.
        public var minute: Int
        /// Bytes per second; nil: no limit.
        public var rate: UInt64?
    }

    /// In time order; one entry at minute 0 for a single rate.
    public private(set) var entries: [Entry]

    public static let unlimited = RateSchedule(entries: [Entry(minute: 0, rate: nil)])

    public init(rate: UInt64?) {
        entries = [Entry(minute: 0, rate: rate)]
    }

    init(entries: [Entry]) {
        self.entries = entries
    }

    /// Parses a rate (`200M`, `off`) or a timetable (`08:00,200M 20:00,off`); the error
    /// names the entry that is wrong and why.
    public init(parsing text: String) throws(ConfigMessage) {
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard !words.isEmpty else { throw ConfigMessage("an empty rate: give bytes per second such as 200M, off, or a timetable such as '08:00,200M 20:00,off'") }
        if words.count == 1, !words[0].contains(",") {
            entries = [Entry(minute: 0, rate: try Self.rate(words[0], in: text))]
            return
        }
        var parsed: [Entry] = []
        for word in words {
            let parts = word.split(separator: ",", omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw ConfigMessage("'\(word)' in '\(text)' is not TIME,RATE (such as 08:00,200M or 20:00,off)")
            }
            let minute = try Self.minute(String(parts[0]), entry: word)
            guard !parsed.contains(where: { $0.minute == minute }) else { throw ConfigMessage("\(parts[0]) comes twice in '\(text)'") }
            parsed.append(Entry(minute: minute, rate: try Self.rate(String(parts[1]), in: word)))
        }
        entries = parsed.sorted { $0.minute < $1.minute }
    }

    /// The limit at `minute` after midnight (nil: none).
    public func rate(atMinute minute: Int) -> UInt64? {
        (entries.last { $0.minute <= minute } ?? entries.last!).rate
    }

    /// The form it was given in, normalized: `200M`-style rates as bytes, times as HH:MM.
    public var description: String {
        if entries.count == 1, entries[0].minute == 0 { return Self.rateText(entries[0].rate) }
        return entries.map { String(format2($0.minute / 60)) + ":" + format2($0.minute % 60) + "," + Self.rateText($0.rate) }.joined(separator: " ")
    }

    static func rateText(_ rate: UInt64?) -> String {
        rate.map { String($0) } ?? "off"
    }

    static func minute(_ text: String, entry: String) throws(ConfigMessage) -> Int {
        let hm = text.split(separator: ":", omittingEmptySubsequences: false)
        guard hm.count == 2, hm[0].count <= 2, hm[1].count == 2, let h = Int(hm[0]), let m = Int(hm[1]), (0..<24).contains(h), (0..<60).contains(m) else {
            throw ConfigMessage("'\(text)' in '\(entry)' is not a time of day HH:MM (00:00 to 23:59; weekdays are not supported)")
        }
        return h * 60 + m
    }

    static func rate(_ text: String, in entry: String) throws(ConfigMessage) -> UInt64? {
        if text.lowercased() == "off" { return nil }
        guard let n = Quantity.byteCount(text), n > 0 else {
            throw ConfigMessage("'\(text)' in '\(entry)' is not a rate: bytes per second such as 200M or 1.5GiB, or off")
        }
        return n
    }
}

private func format2(_ n: Int) -> String {
    n < 10 ? "0\(n)" : "\(n)"
}
