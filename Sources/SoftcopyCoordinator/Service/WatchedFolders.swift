import Logging
import Synchronization
import SoftcopyCore
import SoftcopyIO

/// The `watch:` entries of a service: a thread that looks in each watched folder every
/// `scanInterval` for archives (`ArchiveFinder`) and starts a job for each one that
/// `WatchDecision` says needs one, at most `maximumJobs` at once (the others wait their
/// turn, oldest first, and start as soon as a job ends). `update` replaces the entries (SIGHUP): new ones are looked at
/// from the next scan, and the jobs of removed ones finish what they have.
public final class WatchedFolders: Sendable {
    /// A new archive is noticed within this long.
    public static let scanInterval: Duration = .seconds(2)
    /// An archive whose job ended is looked at for changes this often (a walk of its
    /// folders): one whose copy did not verify, and one whose copy did (rarely written again).
    public static let changeCheckInterval: Duration = .seconds(10)
    public static let verifiedCheckInterval: Duration = .seconds(60)
    public static let maximumJobs = 4

    private struct Known {
        var watch: String
        var job: Job?
        /// When this process last read its fingerprint.
        var checked: MonotonicInstant = .zero
        var lastEnd: WatchDecision.LastEnd?
        var queued = false
    }

    private struct State {
        var base: CoordinatorConfiguration
        var known: [String: Known] = [:]
        /// Archives waiting for a free job slot, in the order they were found.
        var queue: [(source: String, spec: TargetSpec, watch: String, date: String)] = []
        var stopped = false
        /// A job ended: look again now (its slot is free for the next one queued).
        var nudged = false
    }

    private let service: CoordinatorService
    private let state: ConditionLock<State>
    private let thread = Mutex<OSThread?>(nil)
    private var logger: Logger { service.logger }

    /// `base` holds the targets file's settings (with the command line's) and its watch entries.
    public init(service: CoordinatorService, base: CoordinatorConfiguration) {
        self.service = service
        self.state = ConditionLock(State(base: base))
        service.watchedFolders.withLock { $0 = base.watches }
        service.onJobEnd { [state] in
            state.withLock { $0.nudged = true }
            state.broadcast()
        }
    }

    public func start() {
        for watch in state.withLock({ $0.base.watches }) { describe(watch) }
        let started = OSThread(name: "sc-watch") { [self] in loop() }
        thread.withLock { $0 = started }
    }

    /// New entries (SIGHUP): archives of folders no longer watched keep their jobs to the end.
    public func update(_ base: CoordinatorConfiguration) {
        let old = state.withLock { s -> [WatchSpec] in
            defer {
                s.base = base
                s.nudged = true
                // An archive that did not verify is tried again: the operator may have fixed its cause.
                for key in s.known.keys where s.known[key]?.job == nil && s.known[key]?.lastEnd?.verified == false {
                    s.known[key]?.lastEnd?.inThisProcess = false
                }
            }
            return s.base.watches
        }
        service.watchedFolders.withLock { $0 = base.watches }
        for watch in base.watches where !old.contains(where: { $0.folder == watch.folder }) { describe(watch) }
        for watch in old where !base.watches.contains(where: { $0.folder == watch.folder }) {
            logger.notice("no longer watching \(watch.folder); its jobs under way finish what they have")
        }
        state.broadcast()
    }

    public func stop() {
        state.withLock { $0.stopped = true }
        state.broadcast()
        thread.withLock { t -> OSThread? in
            defer { t = nil }
            return t
        }?.join()
    }

    private func describe(_ watch: WatchSpec) {
        let exists = ArchiveFinder.archives(in: watch.folder, pattern: watch.pattern) != nil
        logger.info("watching \(watch.folder) for \(watch.pattern) -> \(watch.destination)\(exists ? "" : " (the folder does not exist yet; it is looked for every \(Quantity.formatDuration(Self.scanInterval)))")")
    }

    private func loop() {
        while !service.isShuttingDown {
            let (base, stopped) = state.withLock { ($0.base, $0.stopped) }
            if stopped { return }
            for watch in base.watches { scan(watch, base: base) }
            startQueued(base: base)
            // Woken early by `update`, `stop` and a job's end.
            let deadline = Clock.now() + Self.scanInterval
            state.waitFor { s -> ConditionLock<State>.Attempt<Void> in
                if s.stopped || s.nudged || Clock.now() >= deadline {
                    s.nudged = false
                    return .done(())
                }
                return .wait(until: deadline)
            }
        }
    }

    private func scan(_ watch: WatchSpec, base: CoordinatorConfiguration) {
        guard let found = ArchiveFinder.archives(in: watch.folder, pattern: watch.pattern) else { return }
        let now = Clock.now()
        for relative in found {
            let source = PathNormalizer.normalize(watch.folder + "/" + relative)
            var known = state.withLock { $0.known[source] } ?? Known(watch: watch.folder)
            if known.queued { continue }
            let running = known.job.map { $0.status == nil } ?? false
            if running { continue }
            if let job = known.job, let status = job.status {
                // Its job has just ended: what the history recorded is the end to compare with.
                let row = service.history?.lastEnded(source: source)
                known.lastEnd = .init(verified: status == .verified || status == .verifiedWithLeftovers, refused: status == .usage,
                                      fingerprint: row?.fingerprint ?? ArchiveFinder.fingerprint(of: source)?.description, inThisProcess: true)
                known.checked = now
                // The service keeps the newest ended jobs for the dashboard; this only its end.
                known.job = nil
            } else if known.job == nil, known.lastEnd == nil, let row = service.history?.lastEnded(source: source) {
                known.lastEnd = .init(verified: row.status == "verified" || row.status == "verified-with-leftovers",
                                      fingerprint: row.fingerprint, inThisProcess: false)
            }
            var fingerprint: String?
            if known.lastEnd != nil {
                // Ended archives are walked for changes now and then, not at every scan.
                let interval = known.lastEnd?.verified == true ? Self.verifiedCheckInterval : Self.changeCheckInterval
                if known.checked != .zero, now - known.checked < interval {
                    state.withLock { $0.known[source] = known }
                    continue
                }
                fingerprint = ArchiveFinder.fingerprint(of: source)?.description
                known.checked = now
            }
            if WatchDecision.decide(running: false, lastEnd: known.lastEnd, fingerprint: fingerprint) == .start {
                // The same archive keeps its destination across restarts and days.
                let date = service.history?.lastDate(source: source) ?? Clock.localDate()
                let spec = watch.target(relativePath: relative, date: date, host: Clock.hostName())
                known.queued = true
                if let lastEnd = known.lastEnd {
                    logger.info("\(source) \(lastEnd.verified ? "changed after its copy was verified" : lastEnd.inThisProcess ? "changed; its copy had not verified: trying again" : "was not verified by an earlier run: resuming")")
                } else {
                    logger.info("new archive \(source) -> \(spec.destination)")
                }
                state.withLock { s in
                    s.known[source] = known
                    s.queue.append((source, spec, watch.folder, date))
                }
            } else {
                state.withLock { $0.known[source] = known }
            }
        }
    }

    private func startQueued(base: CoordinatorConfiguration) {
        while true {
            let next = state.withLock { s -> (source: String, spec: TargetSpec, watch: String, date: String)? in
                let running = s.known.values.filter { $0.job?.status == nil && $0.job != nil }.count
                guard running < Self.maximumJobs, !s.queue.isEmpty else { return nil }
                return s.queue.removeFirst()
            }
            guard let next else { return }
            var configuration = base
            configuration.targets = [next.spec]
            configuration.watches = []
            let watch = base.watches.first { $0.folder == next.watch }
            configuration.settings.idleTimeout = watch?.idleTimeout ?? base.settings.idleTimeout ?? WatchSpec.defaultIdleTimeout
            configuration.settings.waitForSource = false
            do {
                let job = try service.start(configuration, watchFolder: next.watch, watchDate: next.date)
                state.withLock { s in
                    s.known[next.source]?.job = job
                    s.known[next.source]?.queued = false
                    s.known[next.source]?.lastEnd?.inThisProcess = false
                }
            } catch {
                return
            }
        }
    }
}
