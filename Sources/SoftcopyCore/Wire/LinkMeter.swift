/// The rate an agent's link carries while it carries something: the bytes of recent
/// response bodies over the time during which at least one body was arriving. Several
/// transfers at once share the link, so the union of their times counts, not the sum;
/// the time before a body's first byte (the coordinator reading and hashing the file)
/// does not count, so a slow source disk is not taken for a slow link. A pure value,
/// times passed in.
public struct LinkMeter: Sendable {
    private struct Transfer {
        var start: MonotonicInstant
        var end: MonotonicInstant
        var bytes: UInt64
    }

    private var transfers: [Transfer] = []
    /// Transfers older than this no longer count.
    public static let window: Duration = .seconds(3)
    /// At most this many recent transfers are kept (the newest).
    public static let capacity = 512
    /// Bodies smaller than this arrive in one piece on any link and say nothing of it.
    public static let smallestBody: UInt64 = 64 << 10

    public init() {}

    /// How much raw data one lease may ask for over a link of `rate` bytes per second:
    /// what it carries in `batchTime`, at least 1 MiB, at most `limit`. An agent commits a
    /// batch once all of it has arrived, so over a slow link a large batch holds its
    /// first chunks back for as long as the rest takes (64 MiB over 100 Mbit/s: seconds).
    public static func batchBytes(rate: Double?, limit: UInt64) -> UInt64 {
        guard let rate, rate > 0 else { return limit }
        return min(limit, max(1 << 20, UInt64(rate * batchTime.secondsValue)))
    }

    public static let batchTime: Duration = .milliseconds(100)

    /// A body of `bytes` that arrived between `start` (its first byte) and `end`.
    public mutating func record(bytes: UInt64, start: MonotonicInstant, end: MonotonicInstant) {
        guard bytes >= Self.smallestBody, end > start else { return }
        transfers.append(Transfer(start: start, end: end, bytes: bytes))
        if transfers.count > Self.capacity { transfers.removeFirst(transfers.count - Self.capacity) }
    }

    /// Bytes per second over the window before `now`, nil with nothing measured in it.
    public mutating func rate(now: MonotonicInstant) -> Double? {
        let from = now + (Duration.zero - Self.window)
        transfers.removeAll { $0.end < from }
        guard !transfers.isEmpty else { return nil }
        let sorted = transfers.sorted { $0.start < $1.start }
        var busy: Int64 = 0
        var bytes: UInt64 = 0
        var current = (start: sorted[0].start, end: sorted[0].end)
        for t in sorted {
            bytes += t.bytes
            if t.start > current.end {
                busy += current.end.nanoseconds - current.start.nanoseconds
                current = (t.start, t.end)
            } else if t.end > current.end {
                current.end = t.end
            }
        }
        busy += current.end.nanoseconds - current.start.nanoseconds
        guard busy > 0 else { return nil }
        return Double(bytes) / (Double(busy) / 1e9)
    }
}
