/// Bytes per second over a sliding window, from samples of a growing byte total.
/// Sampled a few times a second, so a small array is all it needs.
public struct RateMeter: Sendable {
    public let window: Duration
    private var samples: [(time: MonotonicInstant, total: UInt64)] = []

    public init(window: Duration = .seconds(5)) {
        self.window = window
    }

    public mutating func record(total: UInt64, at now: MonotonicInstant) {
        samples.append((now, total))
        // Keep one sample at or before the window's start as the anchor.
        while samples.count > 2, now - samples[1].time >= window {
            samples.removeFirst()
        }
    }

    public var bytesPerSecond: Double {
        guard let first = samples.first, let last = samples.last, last.time > first.time else { return 0 }
        return Double(last.total &- first.total) / (last.time - first.time).secondsValue
    }
}
