/// A token bucket for `--max-rate`: readers reserve bytes before reading, and the bucket
/// says how long to wait so the average stays at the rate while bursts up to `burst`
/// pass at once. Reservations may drive the balance negative (debt), so a large file
/// does not starve: it simply waits for its own bytes.
public struct TokenBucket: Sendable {
    public let bytesPerSecond: Double
    public let burst: Double
    private var tokens: Double
    private var last: MonotonicInstant

    public init(bytesPerSecond: UInt64, burst: UInt64? = nil, now: MonotonicInstant) {
        self.bytesPerSecond = Double(max(bytesPerSecond, 1))
        // A quarter second of traffic by default: smooth, yet a few chunks at once.
        self.burst = Double(burst ?? max(bytesPerSecond / 4, 1))
        self.tokens = self.burst
        self.last = now
    }

    /// Reserves `bytes` and returns how long the caller must wait before using them.
    public mutating func reserve(_ bytes: UInt64, now: MonotonicInstant) -> Duration {
        let elapsed = max(0, (now - last).secondsValue)
        last = max(last, now)
        tokens = min(burst, tokens + elapsed * bytesPerSecond)
        tokens -= Double(bytes)
        return tokens >= 0 ? .zero : .secondsValue(-tokens / bytesPerSecond)
    }
}
