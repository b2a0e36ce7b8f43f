import Synchronization
import SoftcopyCore

/// `--max-rate` for many threads: each reserves the bytes it has just read from a shared
/// token bucket and waits what the bucket says, so the total stays at the rate smoothly.
public final class RateLimiter: Sendable {
    private let bucket: Mutex<TokenBucket>

    public init(bytesPerSecond: UInt64) {
        bucket = Mutex(TokenBucket(bytesPerSecond: bytesPerSecond, now: Clock.now()))
    }

    public func consume(_ bytes: UInt64) {
        guard bytes > 0 else { return }
        let wait = bucket.withLock { $0.reserve(bytes, now: Clock.now()) }
        Clock.sleep(wait)
    }
}
