public import SoftcopyCore
import SoftcopyIO
import Synchronization

/// One copy inside a `CoordinatorService`: the targets of one configuration (a targets
/// file, or one acquisition), watched, copied, ended and verified on a thread of its own.
/// A job is created by `CoordinatorService.start` and ends by itself: when every archive
/// has its verdict, when it is interrupted, or when its setup fails (`.usage`).
public final class Job: Sendable {
    /// The job's name on the wire (agents keep one job per name) and in logs.
    public let id: String
    public let configuration: CoordinatorConfiguration
    let controls: RunControls
    /// When the job started (wall clock, UTC) and ended.
    public let started = Clock.wallTimestamp()
    private let endedAt = Mutex<String?>(nil)
    public var ended: String? { endedAt.withLock { $0 } }
    /// The watched folder its archive was found in; nil for a targets file's job.
    public var watchFolder: String? { controls.watchFolder }
    private let outcome = ConditionLock<ExitStatus?>(nil)
    private let thread = Mutex<OSThread?>(nil)

    init(id: String, configuration: CoordinatorConfiguration, controls: RunControls) {
        self.id = id
        self.configuration = configuration
        self.controls = controls
    }

    /// Starts the run on its own thread; `ended` is called on that thread once its status is set.
    func start(discovery: @escaping @Sendable () -> AgentDiscovery?, ended: @escaping @Sendable () -> Void) {
        let started = OSThread(name: "sc-job") { [self] in
            let status = CoordinatorRun(job: self, discovery: discovery).run()
            endedAt.withLock { $0 = Clock.wallTimestamp() }
            outcome.withLock { $0 = status }
            outcome.broadcast()
            ended()
        }
        thread.withLock { $0 = started }
    }

    /// The exit status once the job has ended, nil while it runs.
    public var status: ExitStatus? { outcome.withLock { $0 } }

    /// The operator ended the acquisition (SIGUSR1 for a job of the command line): the
    /// job rescans, drains, verifies and ends.
    public func endAcquisition() {
        controls.endAcquisition()
    }

    /// Stop after the transfers under way: what was copied is durable and journaled, and
    /// the same configuration started again resumes.
    public func interrupt() {
        controls.interrupt()
    }

    /// The job's status once it has ended, or nil if it still runs at `deadline`.
    public func wait(until deadline: MonotonicInstant) -> ExitStatus? {
        let status = outcome.waitFor { status -> ConditionLock<ExitStatus?>.Attempt<ExitStatus?> in
            if let status { return .done(status) }
            return Clock.now() >= deadline ? .done(nil) : .wait(until: deadline)
        }
        // Taken out, so that of several waiters only one joins the thread.
        if status != nil {
            thread.withLock { t -> OSThread? in
                defer { t = nil }
                return t
            }?.join()
        }
        return status
    }
}
