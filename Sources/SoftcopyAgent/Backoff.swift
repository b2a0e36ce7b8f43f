import SoftcopyCore
import SoftcopyIO

/// Exponential backoff with jitter, for talking to a coordinator that is away.
struct Backoff {
    private(set) var attempts = 0
    private var firstFailure: MonotonicInstant?
    static let base: Duration = .milliseconds(250)
    static let cap: Duration = .seconds(5)

    var failingFor: Duration {
        firstFailure.map { Clock.now() - $0 } ?? .zero
    }

    mutating func reset() {
        attempts = 0
        firstFailure = nil
    }

    /// Sleeps the next delay in small steps, returning early once `stop()` says so.
    mutating func wait(unless stop: () -> Bool) {
        if firstFailure == nil { firstFailure = Clock.now() }
        let exponential = Self.base.secondsValue * Double(1 << min(attempts, 10))
        let delay = min(Self.cap.secondsValue, exponential) * Double.random(in: 0.5..<1.5)
        attempts += 1
        let deadline = Clock.now() + .secondsValue(delay)
        while Clock.now() < deadline, !stop() {
            Clock.sleep(.milliseconds(50))
        }
    }
}
