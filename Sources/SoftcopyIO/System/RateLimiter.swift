import Glibc
import Synchronization
public import SoftcopyCore

/// `max_rate` for many threads: each reserves the bytes it has just read from a shared
/// token bucket and waits what the bucket says, so the total stays at the rate smoothly.
/// The rate follows a daily timetable in the local time (looked up at most once a
/// second) and can be replaced while running (`set`, from the API or SIGHUP); `off`
/// makes reads wait for nothing.
public final class RateLimiter: Sendable {
    private struct State {
        var schedule: RateSchedule
        var bucket: TokenBucket?
        var rate: UInt64?
        /// When the timetable was last looked at (a new second looks again).
        var checkedAt: Int = -1
    }

    private let state: Mutex<State>

    public init(_ schedule: RateSchedule) {
        state = Mutex(State(schedule: schedule))
    }

    public var schedule: RateSchedule { state.withLock { $0.schedule } }

    /// The limit now (nil: none).
    public var currentRate: UInt64? {
        state.withLock { s in
            refresh(&s, now: Clock.now())
            return s.rate
        }
    }

    /// A new timetable, in force at once.
    public func set(_ schedule: RateSchedule) {
        state.withLock { s in
            s.schedule = schedule
            s.checkedAt = -1
        }
    }

    public func consume(_ bytes: UInt64) {
        guard bytes > 0 else { return }
        let wait = state.withLock { s -> Duration in
            let now = Clock.now()
            refresh(&s, now: now)
            return s.bucket?.reserve(bytes, now: now) ?? .zero
        }
        Clock.sleep(wait)
    }

    private func refresh(_ s: inout State, now: MonotonicInstant) {
        let second = Int(now.nanoseconds / 1_000_000_000)
        guard second != s.checkedAt else { return }
        s.checkedAt = second
        let rate = s.schedule.rate(atMinute: Self.localMinuteOfDay())
        guard rate != s.rate || (rate != nil && s.bucket == nil) else { return }
        s.rate = rate
        s.bucket = rate.map { TokenBucket(bytesPerSecond: $0, now: now) }
    }

    /// Minutes since the local midnight (the timezone of the process: TZ, /etc/localtime).
    static func localMinuteOfDay() -> Int {
        var t = time(nil)
        var parts = tm()
        guard localtime_r(&t, &parts) != nil else { return 0 }
        return Int(parts.tm_hour) * 60 + Int(parts.tm_min)
    }
}
