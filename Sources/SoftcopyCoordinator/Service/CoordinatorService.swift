import Glibc
public import Logging
import Synchronization
public import SoftcopyCore
import SoftcopyIO

/// The coordinator's long-lived service: it hosts copy `Job`s, each created while the
/// process runs and ending by itself, and owns what is the process's rather than a job's:
/// the console and logger, the signals, and the one Avahi browser the jobs share. The
/// shape is swift-service-lifecycle's `ServiceGroup` (run until the work ends or a
/// graceful shutdown is asked, then let each part finish), on threads: a job's run blocks
/// on file I/O and sigwait, which must not occupy Swift's concurrency pool.
///
/// Signals (when `handlesSignals`): SIGINT, SIGTERM and SIGHUP shut down gracefully (every
/// job stops after its transfers under way, resumable; a second one exits at once), and
/// SIGUSR1 ends the acquisition of every job under way.
public final class CoordinatorService: Sendable {
    public enum Lifetime: Sendable {
        /// The command line: the service ends when its last job has ended.
        case untilJobsEnd
        /// Jobs come and go; the service ends on a graceful shutdown, once its jobs have.
        case untilShutdown
    }

    /// A job asked of a service that is shutting down.
    public struct ShuttingDown: Error, CustomStringConvertible {
        public var description: String { "the coordinator is shutting down: no new job is started" }
    }

    private struct State {
        var jobs: [Job] = []
        var running = 0
        var shuttingDown = false
        var signals = 0
    }

    public let logger: Logger
    let console: ConsoleOutput
    private let state = ConditionLock(State())
    private let discovery = Mutex<AgentDiscovery?>(nil)
    /// Kept for the life of the process (its thread waits in sigwait); nil in a test process.
    private let signalWatcher = Mutex<SignalWatcher?>(nil)

    /// `handlesSignals` blocks the handled signals in the calling thread and takes them on
    /// a thread of its own: create the service before any other thread starts, so every
    /// thread inherits the mask. Off for a service inside a test process.
    public init(progress: CoordinatorConfiguration.ProgressMode, verbose: Bool, handlesSignals: Bool) {
        let interactive: Bool
        switch progress {
        case .auto: interactive = Terminal.isInteractive
        case .always: interactive = true
        case .never: interactive = false
        }
        let console = ConsoleOutput(interactive: interactive, logsProgress: progress == .auto && !interactive)
        let level: Logger.Level = verbose ? .debug : .info
        self.console = console
        self.logger = Logger(label: "softcopy") { _ in ConsoleLogHandler(output: console, level: level) }
        if handlesSignals {
            SignalWatcher.blockInThisThread()
            let watcher = SignalWatcher { [weak self] signal in self?.handle(signal: signal) }
            signalWatcher.withLock { $0 = watcher }
        }
    }

    /// The service of a command-line run, shaped by its options.
    public convenience init(for configuration: CoordinatorConfiguration, handlesSignals: Bool = true) {
        self.init(progress: configuration.progress, verbose: configuration.verbose, handlesSignals: handlesSignals)
    }

    /// Creates a job for `configuration` and starts it.
    @discardableResult
    public func start(_ configuration: CoordinatorConfiguration) throws(ShuttingDown) -> Job {
        var random = SystemRandomNumberGenerator()
        let job = Job(id: "j" + String(random.next() as UInt64, radix: 16), configuration: configuration,
                      controls: RunControls(console: console, logger: logger))
        let refused = state.withLock { s -> Bool in
            if s.shuttingDown { return true }
            s.jobs.append(job)
            s.running += 1
            return false
        }
        if refused { throw ShuttingDown() }
        job.start(discovery: { [self] in sharedDiscovery(haveToken: configuration.settings.tokenFile != nil) }) { [state] in
            state.withLock { $0.running -= 1 }
            state.broadcast()
        }
        return job
    }

    /// Every job this service started, in order, running or ended.
    public var jobs: [Job] { state.withLock { $0.jobs } }

    /// Blocks until the service's lifetime is over and its jobs have ended, or until
    /// `deadline` (then nil, and the service goes on). The status is the most severe of its
    /// jobs' (`ExitStatus`); with no job, `.interrupted` after a shutdown, else `.verified`.
    public func run(_ lifetime: Lifetime, until deadline: MonotonicInstant? = nil) -> ExitStatus? {
        let shutDown = state.waitFor { s -> ConditionLock<State>.Attempt<Bool?> in
            if s.running == 0, s.shuttingDown || lifetime == .untilJobsEnd { return .done(s.shuttingDown) }
            if let deadline, Clock.now() >= deadline { return .done(nil) }
            return .wait(until: deadline)
        }
        guard let shutDown else { return nil }
        discovery.withLock { $0 }?.stop()
        // Every job has its status: waiting joins their threads.
        let statuses = jobs.compactMap { $0.wait(until: Clock.now()) }
        return statuses.max() ?? (shutDown ? .interrupted : .verified)
    }

    /// What SIGTERM does: no new job, and every job stops after its transfers under way.
    public func shutdownGracefully() {
        let running = state.withLock { s -> [Job] in
            s.shuttingDown = true
            return s.jobs
        }
        state.broadcast()
        for job in running where job.status == nil { job.interrupt() }
    }

    /// What SIGUSR1 does: every job under way finishes its acquisition and verifies.
    public func endAcquisitions() {
        for job in jobs where job.status == nil { job.endAcquisition() }
    }

    private func handle(signal: Int32) {
        if signal == SIGUSR1 {
            logger.notice("SIGUSR1: the operator ended the acquisition; finishing")
            endAcquisitions()
            return
        }
        let count = state.withLock { s -> Int in
            s.signals += 1
            return s.signals
        }
        if count == 1 {
            logger.warning("signal \(signal): stopping after the transfers under way (again to quit at once)")
            shutdownGracefully()
        } else {
            // Safe: nothing is ever written under a real name before it is complete.
            _exit(ExitStatus.interrupted.rawValue)
        }
    }

    /// The one Avahi browser of the process, made when the first job asks for it. Whether
    /// that job has a token only words a warning (an agent that requires one), so the
    /// first job's answer serves the others.
    func sharedDiscovery(haveToken: Bool) -> AgentDiscovery {
        discovery.withLock { d in
            if let d { return d }
            let made = AgentDiscovery(haveToken: haveToken, logger: logger)
            d = made
            return made
        }
    }
}
