import Glibc
import Logging
import Synchronization
import SoftcopyCore
import SoftcopyIO

/// What a run shares with other threads: the signals it got, the wake-up of its main
/// loop, its console and logger, and the local destination's free space for placement.
final class RunControls: Sendable {
    let console: ConsoleOutput
    let logger: Logger
    private let signals = Mutex(SignalState())
    /// Set when something happened that the main loop should look at (a tracker changed,
    /// a signal came); the main loop sleeps on it between its looks.
    private let wake = ConditionLock(false)
    /// Free bytes at the local destination (a local copy is a placement node too).
    let localFreeBytes = Atomic<UInt64>(0)

    private struct SignalState {
        var interrupts = 0
        var endRequested = false
    }

    init(console: ConsoleOutput, logger: Logger) {
        self.console = console
        self.logger = logger
    }

    var interrupted: Bool { signals.withLock { $0.interrupts > 0 } }
    var operatorEnded: Bool { signals.withLock { $0.endRequested } }

    func handle(signal: Int32) {
        let interrupts = signals.withLock { s -> Int in
            if signal == SIGUSR1 {
                s.endRequested = true
                return s.interrupts
            }
            s.interrupts += 1
            return s.interrupts
        }
        nudge()
        if signal == SIGUSR1 {
            logger.notice("SIGUSR1: the operator ended the acquisition; finishing")
        } else if interrupts == 1 {
            logger.warning("signal \(signal): stopping after the transfers under way (again to quit at once)")
        } else {
            // Safe: nothing is ever written under a real name before it is complete.
            _exit(ExitStatus.interrupted.rawValue)
        }
    }

    /// A first interrupt, without a signal (a run inside a test process).
    func interrupt() {
        signals.withLock { $0.interrupts = max($0.interrupts, 1) }
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
