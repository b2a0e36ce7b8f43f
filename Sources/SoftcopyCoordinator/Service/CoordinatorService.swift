import Glibc
public import Logging
import Synchronization
public import SoftcopyCore
import SoftcopyIO
import SoftcopyHTTP
import SoftcopyAgent

/// The coordinator's long-lived service: it hosts copy `Job`s, each created while the
/// process runs and ending by itself, and owns what is the process's rather than a job's:
/// the console and logger, the signals, and the one Avahi browser the jobs share. The
/// shape is swift-service-lifecycle's `ServiceGroup` (run until the work ends or a
/// graceful shutdown is asked, then let each part finish), on threads: a job's run blocks
/// on file I/O and sigwait, which must not occupy Swift's concurrency pool.
///
/// It also owns the one HTTP server of the process (`ServiceAPI`: the dashboard, status,
/// metrics, and every job's agent API), the shared cap on source reads, and the history.
///
/// Signals (when `handlesSignals`): SIGINT and SIGTERM shut down gracefully (every job
/// stops after its transfers under way, resumable; a second one exits at once); SIGHUP
/// re-reads the targets file where a reload is set (`onReload`, the watched folders),
/// else shuts down like SIGTERM; SIGUSR1 ends the acquisition of every job under way.
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
        /// Jobs the graceful shutdown stopped (the service's exit status is theirs).
        var interruptedByShutdown = false
    }

    /// Ended jobs kept in memory for the dashboard (the history keeps every one).
    public static let endedJobsKept = 50

    public let logger: Logger
    let console: ConsoleOutput
    /// The log level of the service's lines and of every job's.
    private let level: Logger.Level
    private let state = ConditionLock(State())
    /// Where every archive's copy is recorded; nil without a state folder.
    public let history: JobHistory?
    public let startedWall = Clock.wallTimestamp()
    private let http = Mutex<ServiceHTTP?>(nil)
    /// `max_rate` for every job of the service (reads of all of them count together).
    let rateLimiter = RateLimiter(.unlimited)

    /// A new `max_rate` for every job, at once (PUT /v1/max_rate, SIGHUP).
    public func setMaxRate(_ schedule: RateSchedule) {
        rateLimiter.set(schedule)
        logger.notice("max_rate is now \(schedule)\(rateLimiter.currentRate.map { " (\(Quantity.formatRate(bytesPerSecond: Double($0))) now)" } ?? " (no limit now)")")
    }
    /// Made with the first job's `nprocs`: every job's local copy shares it.
    private let transferSlots = Mutex<TransferSlots?>(nil)
    /// What SIGHUP does besides logging, when set (the watched folders' reload).
    private let reload = Mutex<(@Sendable () -> Void)?>(nil)
    /// Called on a job's thread as it ends (the watched folders start the next one queued).
    private let jobEnded = Mutex<[@Sendable () -> Void]>([])
    /// What the dashboard shows of the watched folders.
    let watchedFolders = Mutex<[WatchSpec]>([])
    private let discovery = Mutex<AgentDiscovery?>(nil)
    /// Kept for the life of the process (its thread waits in sigwait); nil in a test process.
    private let signalWatcher = Mutex<SignalWatcher?>(nil)

    /// `handlesSignals` blocks the handled signals in the calling thread and takes them on
    /// a thread of its own: create the service before any other thread starts, so every
    /// thread inherits the mask. Off for a service inside a test process.
    public init(progress: CoordinatorConfiguration.ProgressMode, verbose: Bool, handlesSignals: Bool, stateDirectory: String? = nil) {
        let interactive: Bool
        switch progress {
        case .auto: interactive = Terminal.isInteractive
        case .always: interactive = true
        case .never: interactive = false
        }
        let console = ConsoleOutput(interactive: interactive, logsProgress: progress == .auto && !interactive)
        let level: Logger.Level = verbose ? .debug : .info
        self.console = console
        self.level = level
        let logger = Logger(label: "softcopy") { _ in ConsoleLogHandler(output: console, level: level) }
        self.logger = logger
        var history: JobHistory?
        if let stateDirectory {
            do {
                history = try JobHistory(directory: stateDirectory)
            } catch {
                logger.warning("no job history: cannot open \(stateDirectory)/\(JobHistory.fileName): \(error); copies go on without it")
            }
        }
        self.history = history
        if handlesSignals {
            SignalWatcher.blockInThisThread()
            let watcher = SignalWatcher { [weak self] signal in self?.handle(signal: signal) }
            signalWatcher.withLock { $0 = watcher }
        }
    }

    /// The service of a command-line run, shaped by its options.
    public convenience init(for configuration: CoordinatorConfiguration, handlesSignals: Bool = true) {
        self.init(progress: configuration.progress, verbose: configuration.verbose, handlesSignals: handlesSignals,
                  stateDirectory: configuration.settings.stateDirectory ?? JobHistory.defaultDirectory())
    }

    /// Starts the HTTP server of the process on `settings.listen` (default 0.0.0.0:7480;
    /// if that default port is taken, another one, logged). Done once: later calls, and
    /// jobs of other settings, share the first server. `start` calls it for a job that
    /// finds none.
    public func serve(_ settings: CoordinatorSettings) throws(ServiceHTTP.Failure) {
        try http.withLock { current throws(ServiceHTTP.Failure) in
            guard current == nil else { return }
            current = try ServiceHTTP(settings: settings, logger: logger, view: ServiceView(service: self))
        }
    }

    /// Creates a job for `configuration` and starts it. `watchFolder` names the watched
    /// folder its archive was found in, and `watchDate` the `{date}` of its destination.
    @discardableResult
    public func start(_ configuration: CoordinatorConfiguration, watchFolder: String? = nil, watchDate: String? = nil) throws(ShuttingDown) -> Job {
        var random = SystemRandomNumberGenerator()
        let id = "j" + String(random.next() as UInt64, radix: 16)
        var served: ServiceHTTP.Failure?
        do {
            try serve(configuration.settings)
        } catch {
            served = error
        }
        let events = JobEvents()
        // Several jobs share the console: each line names its archive.
        let prefix = watchFolder == nil ? "" : "[\(configuration.targets.first.map { PathNormalizer.lastComponent($0.source) } ?? id)] "
        let jobLogger = Logger(label: "softcopy") { [console, level] _ in ConsoleLogHandler(output: console, level: level, events: events, prefix: prefix) }
        // One limit for the service, in force for every job: the latest max_rate given
        // (at start, by a job's configuration, PUT /v1/max_rate or SIGHUP) holds.
        if let schedule = configuration.settings.maxRate, schedule != rateLimiter.schedule { rateLimiter.set(schedule) }
        let limiter = rateLimiter
        let slots = transferSlots.withLock { slots -> TransferSlots in
            if let slots { return slots }
            let made = TransferSlots(capacity: configuration.settings.nprocs ?? CoordinatorConfiguration.defaultWorkers)
            slots = made
            return made
        }
        let controls = RunControls(console: console, logger: jobLogger, events: events, http: http.withLock { $0 }, rateLimiter: limiter, transferSlots: slots,
                                   history: history, watchFolder: watchFolder, watchDate: watchDate)
        let job = Job(id: id, configuration: configuration, controls: controls)
        if let served { job.controls.logger.error("\(served)") }
        var dropped: [Job] = []
        let refused = state.withLock { s -> Bool in
            if s.shuttingDown { return true }
            s.jobs.append(job)
            s.running += 1
            // The dashboard keeps the newest ended jobs; the history keeps all.
            let ended = s.jobs.indices.filter { s.jobs[$0].status != nil }
            if ended.count > Self.endedJobsKept {
                let drop = Set(ended.prefix(ended.count - Self.endedJobsKept))
                dropped = drop.map { s.jobs[$0] }
                s.jobs = s.jobs.enumerated().filter { !drop.contains($0.offset) }.map(\.element)
            }
            return false
        }
        // Joined outside the lock: a job's thread takes it as it ends.
        for old in dropped { _ = old.wait(until: Clock.now()) }
        if refused { throw ShuttingDown() }
        job.start(discovery: { [self] in sharedDiscovery(haveToken: configuration.settings.tokenFile != nil) }) { [self] in
            state.withLock { $0.running -= 1 }
            state.broadcast()
            for observer in jobEnded.withLock({ $0 }) { observer() }
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
        http.withLock { $0 }?.server.shutdown()
        if lifetime == .untilShutdown {
            // A service's archives each have their verdict in the history and the
            // notifications; the service itself ends as it was stopped.
            return state.withLock { $0.interruptedByShutdown } ? .interrupted : .verified
        }
        return statuses.max() ?? (shutDown ? .interrupted : .verified)
    }

    /// Adds what is done as each job ends, on its thread (quick: a nudge).
    public func onJobEnd(_ body: @escaping @Sendable () -> Void) {
        jobEnded.withLock { $0.append(body) }
    }

    /// Sets what SIGHUP does (re-read the targets file) instead of shutting down.
    public func onReload(_ body: @escaping @Sendable () -> Void) {
        reload.withLock { $0 = body }
    }

    /// Whether a graceful shutdown was asked.
    public var isShuttingDown: Bool { state.withLock { $0.shuttingDown } }

    /// What SIGTERM does: no new job, and every job stops after its transfers under way.
    public func shutdownGracefully() {
        let running = state.withLock { s -> [Job] in
            s.shuttingDown = true
            return s.jobs
        }
        state.broadcast()
        for job in running where job.status == nil {
            state.withLock { $0.interruptedByShutdown = true }
            job.interrupt()
        }
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
        if signal == SIGHUP, let reload = reload.withLock({ $0 }) {
            logger.notice("SIGHUP: reading the targets file again")
            reload()
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
