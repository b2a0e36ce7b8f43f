import Logging
import Synchronization
import SoftcopyAgent
import SoftcopyCore
import SoftcopyIO

/// What a job's run shares with other threads: whether it was asked to stop or told the
/// acquisition ended, the wake-up of its main loop, the service's console and logger, and
/// the local destination's free space for placement. Signals are the service's: it turns
/// them into `interrupt()` and `endAcquisition()` on each job.
final class RunControls: Sendable {
    let console: ConsoleOutput
    let logger: Logger
    /// What the service's HTTP server shows of this job, and its event log.
    let surface = JobSurface()
    let events: JobEvents
    /// The service's: one HTTP server for every job (its agents' API is there too).
    let http: ServiceHTTP?
    /// The service's cap on source reads, shared by every job with the same `max_rate`.
    let rateLimiter: RateLimiter?
    /// The service's: the local copies of all its jobs together run `nprocs` batches at once.
    let transferSlots: TransferSlots?
    /// Where each archive's start and end are recorded (nil: no history).
    let history: JobHistory?
    /// The watched folder this job's archive was found in (nil: a targets file's job).
    let watchFolder: String?
    /// The `{date}` its destination was filled with (kept in the history for the next start).
    let watchDate: String?
    /// Whether the progress line may be drawn on the terminal: not for a watched folder's
    /// job, whose service runs several at once on one console.
    var drawsProgress: Bool { watchFolder == nil }
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

    init(console: ConsoleOutput, logger: Logger, events: JobEvents = JobEvents(), http: ServiceHTTP? = nil, rateLimiter: RateLimiter? = nil, transferSlots: TransferSlots? = nil,
         history: JobHistory? = nil, watchFolder: String? = nil, watchDate: String? = nil) {
        self.console = console
        self.logger = logger
        self.events = events
        self.http = http
        self.rateLimiter = rateLimiter
        self.transferSlots = transferSlots
        self.history = history
        self.watchFolder = watchFolder
        self.watchDate = watchDate
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
