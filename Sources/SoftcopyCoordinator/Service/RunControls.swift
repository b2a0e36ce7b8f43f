import Logging
import Synchronization
import SoftcopyCore
import SoftcopyIO

/// What a job's run shares with other threads: whether it was asked to stop or told the
/// acquisition ended, the wake-up of its main loop, the service's console and logger, and
/// the local destination's free space for placement. Signals are the service's: it turns
/// them into `interrupt()` and `endAcquisition()` on each job.
final class RunControls: Sendable {
    let console: ConsoleOutput
    let logger: Logger
    private let requests = Mutex(Requests())
    /// Set when something happened that the main loop should look at (a tracker changed,
    /// a request came); the main loop sleeps on it between its looks.
    private let wake = ConditionLock(false)
    /// Free bytes at the local destination (a local copy is a placement node too).
    let localFreeBytes = Atomic<UInt64>(0)

    private struct Requests {
        var interrupted = false
        var endRequested = false
    }

    init(console: ConsoleOutput, logger: Logger) {
        self.console = console
        self.logger = logger
    }

    var interrupted: Bool { requests.withLock { $0.interrupted } }
    var operatorEnded: Bool { requests.withLock { $0.endRequested } }

    /// Stop after the transfers under way (resumable).
    func interrupt() {
        requests.withLock { $0.interrupted = true }
        nudge()
    }

    /// The operator ended the acquisition: finish and verify.
    func endAcquisition() {
        requests.withLock { $0.endRequested = true }
        nudge()
    }

    /// Wakes the main loop to look at every archive now.
    func nudge() {
        wake.withLock { $0 = true }
        wake.broadcast()
    }

    /// The main loop's looks are at least this far apart (a busy copy changes the trackers
    /// thousands of times a second) and at most `lookInterval` (progress, deadlines of time
    /// alone: idle timeouts, a writer's temp files, lease expiries, the writer's process).
    static let minimumLookInterval: Duration = .milliseconds(20)
    static let lookInterval: Duration = .milliseconds(250)

    /// Sleeps until the main loop is nudged or `lookInterval` has passed, but at least
    /// `minimumLookInterval` after `lastLook`.
    func waitForNextLook(after lastLook: MonotonicInstant) {
        let earliest = lastLook + Self.minimumLookInterval
        let latest = lastLook + Self.lookInterval
        wake.waitFor { nudged in
            let now = Clock.now()
            if now >= latest || (nudged && now >= earliest) {
                nudged = false
                return .done(())
            }
            return .wait(until: nudged ? earliest : latest)
        }
    }
}
