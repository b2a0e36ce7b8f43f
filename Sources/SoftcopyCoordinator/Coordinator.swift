import Glibc
import Logging
import Synchronization
import SoftcopyDiscovery
public import SoftcopyCore
import SoftcopyIO

/// A coordinator run: watches every target's source, copies what is ready, and after
/// each acquisition's end rescans, drains, verifies and writes the manifest. `run`
/// blocks the calling thread and returns the exit status.
public final class Coordinator: @unchecked Sendable {
    let configuration: CoordinatorConfiguration
    let console: ConsoleOutput
    let logger: Logger
    private let signals = Mutex(SignalState())
    /// Set when something happened that the main loop should look at (a tracker changed,
    /// a signal came); the main loop sleeps on it between its looks.
    private let wake = ConditionLock(false)
    var runtimes: [TargetRuntime] = []
    var engine: Engine!
    var rates = RateMeter()
    /// Set when agents take part (see Coordinator+Remote): always with agents, and in a
    /// local copy while discovery may still bring agents in.
    var remote: RemoteSide?
    /// Agents do the copying: there is no local destination.
    var isRemote = false
    var discovery: AgentDiscovery?
    /// The start-up comparison of bytes to copy with free space was made.
    var capacityChecked = false
    /// Free bytes at the local destination (a local copy is a placement node too).
    let localFreeBytes = Atomic<UInt64>(0)
    /// The local copy workers (no agent at the start).
    var localCopier: LocalCopier?

    struct SignalState {
        var interrupts = 0
        var endRequested = false
    }

    public init(configuration: CoordinatorConfiguration) {
        self.configuration = configuration
        let interactive: Bool
        switch configuration.progress {
        case .auto: interactive = Terminal.isInteractive
        case .always: interactive = true
        case .never: interactive = false
        }
        let console = ConsoleOutput(interactive: interactive)
        self.console = console
        let level: Logger.Level = configuration.verbose ? .debug : .info
        self.logger = Logger(label: "softcopy") { _ in ConsoleLogHandler(output: console, level: level) }
    }

    public func run() -> ExitStatus {
        if configuration.handlesSignals {
            // Before any thread starts, so every thread inherits the blocked mask.
            SignalWatcher.blockInThisThread()
            _ = SignalWatcher { [self] signal in handle(signal: signal) }
        }

        if let pid = configuration.writerPID, !ProcessProbe.isRunning(pid) {
            logger.error("--writer-pid \(pid): no such process is running")
            return .usage
        }
        let staticAgents = configuration.settings.agents ?? []
        var found: [String] = []
        if configuration.settings.discovery ?? true {
            let discovery = AgentDiscovery(haveToken: configuration.settings.tokenFile != nil, logger: logger)
            self.discovery = discovery
            if staticAgents.isEmpty {
                let wait = configuration.settings.discoveryWait ?? Self.defaultDiscoveryWait
                found = discovery.waitForAgents(within: wait).map { "\($0.name) (\($0.url))" }.sorted()
                if found.isEmpty {
                    logger.info("no agent found through Avahi (_softcopy._tcp) within \(Quantity.formatDuration(wait)): copying locally; agents that appear later join the run")
                }
            }
        }
        isRemote = !staticAgents.isEmpty || !found.isEmpty
        if isRemote {
            let names = staticAgents + found
            logger.info("copying through \(names.count) agent\(names.count == 1 ? "" : "s"): \(names.joined(separator: ", "))\(discovery != nil ? "; more join as Avahi finds them" : "")")
        }
        defer { discovery?.stop() }
        for spec in configuration.targets {
            if let status = checkSource(spec, checkOverlap: !isRemote) { return status }
        }
        do {
            try setUp()
        } catch let error as SetupError {
            logger.error("\(error.message)")
            return .usage
        } catch {
            logger.error("\(error)")
            return .usage
        }

        if isRemote || discovery != nil {
            do {
                try startRemote()
            } catch {
                logger.error("\(error)")
                return .usage
            }
        }
        if !isRemote {
            let engine = self.engine!
            let lanes = runtimes.flatMap { runtime in
                runtime.lanes.map { lane in
                    LocalCopier.Target(sourceRoot: runtime.spec.source, links: engine.sourceLinks(ofLane: lane),
                                       destination: runtime.destination!, journal: runtime.journal!)
                }
            }
            localCopier = LocalCopier(
                engine: engine,
                targets: lanes,
                workers: configuration.settings.nprocs ?? CoordinatorConfiguration.defaultWorkers,
                sleepTime: configuration.settings.sleepTime,
                maxRate: configuration.settings.maxRate,
                ioPriority: configuration.ioPriority,
                directIO: configuration.directIO,
                logger: logger,
                othersCanTake: { engine.placementNodes().contains { $0.id != 0 && $0.attached } })
            localCopier?.start()
        }

        for runtime in runtimes {
            if configuration.once {
                // The source is finished: this one scan is also the final one.
                runtime.finalScan = runtime.watcher.scanOnce(.initial)
            } else {
                runtime.watcher.start()
            }
        }

        let status = mainLoop()

        engine.shutdown()
        localCopier?.join()
        stopRemote()
        for runtime in runtimes {
            runtime.watcher.stop()
            runtime.journal?.sync()
        }
        console.endProgress()
        if status == .interrupted {
            logger.warning("interrupted before the end: what was copied is durable and journaled; run the same command again to resume")
        }
        return status
    }

    struct SetupError: Error {
        var message: String
    }

    /// Nil if the source is ready to watch, else the status to exit with.
    private func checkSource(_ spec: TargetSpec, checkOverlap overlap: Bool) -> ExitStatus? {
        var waited = false
        while true {
            // A source that is a link to the archive is the archive.
            switch (try? FileStatus.of(spec.source, followingLinks: true))?.kind {
            case .directory?:
                if waited { logger.info("the source \(spec.source) appeared") }
                return overlap ? checkOverlap(spec) : nil
            case nil:
                guard configuration.settings.waitForSource == true else {
                    logger.error("the source does not exist: \(spec.source)\(configuration.location(of: spec.sourceMark)); pass --wait-for-source to wait for it")
                    return .usage
                }
                if !waited { logger.info("waiting for the source \(spec.source) to appear") }
                waited = true
                if signals.withLock({ $0.interrupts > 0 }) { return .interrupted }
                Clock.sleep(.milliseconds(200))
            case .some:
                logger.error("the source is not a folder: \(spec.source)\(configuration.location(of: spec.sourceMark))")
                return .usage
            }
        }
    }

    /// Catches overlaps that only symlinks reveal (the targets file check is lexical).
    private func checkOverlap(_ spec: TargetSpec) -> ExitStatus? {
        let resolved = realPath
        guard let source = resolved(spec.source) else { return nil }
        var destination = spec.destination
        var suffix = ""
        while resolved(destination) == nil, destination != "/" {
            suffix = "/" + (destination.split(separator: "/").last.map(String.init) ?? "") + suffix
            destination = PathNormalizer.directory(of: destination)
        }
        let target = (resolved(destination) ?? destination) + suffix
        if PathNormalizer.isSameOrInside(target, source) || PathNormalizer.isSameOrInside(source, target) {
            logger.error("the destination \(spec.destination) and the source \(spec.source) overlap (\(target) vs \(source))\(configuration.location(of: spec.destinationMark))")
            return .usage
        }
        return nil
    }

    private func setUp() throws {
        var states: [[Engine.TargetState]] = []
        let now = Clock.now()
        var nextLane = 0
        let lifecycleSettings = ArchiveLifecycle.Settings(once: configuration.once, idleTimeout: configuration.settings.idleTimeout,
                                                          leftoverGrace: configuration.leftoverGrace)
        for (index, spec) in configuration.targets.enumerated() {
            let replicas = configuration.placement(for: spec).replicas
            let lanes = nextLane..<(nextLane + replicas)
            nextLane += replicas
            let fresh = { Engine.TargetState(tracker: ArchiveTracker(configuration: self.configuration.trackerConfiguration(for: spec)), started: now) }
            if isRemote {
                // The agents' listings say what is already there; they are merged as each agent attaches.
                states.append(lanes.map { _ in fresh() })
                runtimes.append(TargetRuntime(index: index, lanes: lanes, spec: spec, destination: nil, journal: nil, watcher: makeWatcher(index: index, spec: spec),
                                              lifecycle: lifecycleSettings, now: now))
                continue
            }
            let destination: DestinationTree
            let preparation: DestinationPreparation.Result
            let journal: JournalFile
            let lock: DestinationLock
            do {
                destination = try DestinationTree(root: spec.destination, create: true)
                // Before anything is looked at or removed there: another run's temp files
                // are not a crash's leftovers.
                lock = try claim(destination, for: spec)
                preparation = try DestinationPreparation.run(destination: destination, logger: logger)
                journal = try JournalFile(destinationRoot: spec.destination, origin: origin(of: spec))
            } catch let error as SetupError {
                throw error
            } catch {
                throw SetupError(message: "cannot use the destination \(spec.destination)\(configuration.location(of: spec.destinationMark)): \(error)")
            }
            var tracker = ArchiveTracker(configuration: configuration.trackerConfiguration(for: spec))
            for (path, seed) in preparation.seeds {
                tracker.seedDestination(path, seed, at: now)
            }
            if preparation.fromJournal + preparation.foreign + preparation.temporariesRemoved > 0 {
                logger.info("resuming \(spec.destination): \(preparation.fromJournal) files already verified by an earlier run, \(preparation.foreign) other files to check, \(preparation.temporariesRemoved) temp files of an interrupted run removed")
            }
            if preparation.skippedJournalLines > 0 {
                logger.debug("skipped \(preparation.skippedJournalLines) torn journal lines")
            }
            states.append([Engine.TargetState(tracker: tracker, started: now)] + lanes.dropFirst().map { _ in fresh() })
            let watcher = makeWatcher(index: index, spec: spec)
            let runtime = TargetRuntime(index: index, lanes: lanes, spec: spec, destination: destination, journal: journal, watcher: watcher,
                                        lifecycle: lifecycleSettings, now: now)
            runtime.resumedFiles = preparation.fromJournal
            runtime.lock = lock
            runtimes.append(runtime)
        }
        engine = Engine(lanes: states, placements: configuration.targets.map { configuration.placement(for: $0) },
                        sourceRoots: configuration.targets.map(\.source),
                        sourceLinks: configuration.targets.map { SourceLinks(policy: configuration.symlinks(for: $0), root: $0.source) },
                        logger: logger)
        engine.onChange { [weak self] in self?.nudge() }
        for runtime in runtimes {
            let mode = configuration.watchMode(for: runtime.spec)
            let how: String
            switch mode {
            case .inotify: how = configuration.once ? "copying (--once)" : "watching"
            case .polling(let interval): how = "polling every \(Quantity.formatDuration(interval))"
            }
            let to = isRemote ? "\(runtime.spec.agentDestination) on the agents" : runtime.spec.destination
            let placement = configuration.placement(for: runtime.spec)
            let spread = isRemote || discovery != nil ? " (placement: \(placement.description))" : ""
            logger.info("\(how) \(runtime.spec.source) -> \(to)\(spread)")
        }
    }

    /// Where this run's copy comes from, as a destination records it.
    func origin(of spec: TargetSpec) -> CopyOrigin {
        CopyOrigin(host: Clock.hostName(), source: realPath(spec.source) ?? spec.source, since: Clock.wallTimestamp())
    }

    /// Takes a local destination for this run: its lock, then its record of which source
    /// it holds a copy of (refused if another, unless asked to replace it).
    private func claim(_ destination: DestinationTree, for spec: TargetSpec) throws -> DestinationLock {
        let here = configuration.location(of: spec.destinationMark)
        let lock: DestinationLock
        do {
            lock = try DestinationLock.acquire(destination, holder: "softcopy-coordinator pid \(getpid()) on \(Clock.hostName()), copying \(spec.source) since \(Clock.wallTimestamp())")
        } catch .held(let holder) {
            throw SetupError(message: "the destination \(spec.destination)\(here) is in use by \(holder); one destination takes one writer: wait for that run to end (or stop it), or choose another destination")
        } catch {
            throw SetupError(message: "cannot use the destination \(spec.destination)\(here): \(error)")
        }
        let origin = origin(of: spec)
        switch CopyOrigin.admit(origin, over: try destination.origin(), replace: configuration.replace(spec)) {
        case .fresh:
            try destination.recordOrigin(origin)
        case .resume:
            break
        case .replace(let existing):
            logger.warning("\(spec.destination) held the copy of \(existing); replacing it with the copy of \(origin.source) (--replace)")
            try destination.recordOrigin(origin)
        case .refuse(let existing):
            throw SetupError(message: CopyOrigin.refusal(destination: spec.destination + here, holds: existing, incoming: origin))
        }
        return lock
    }

    func makeWatcher(index: Int, spec: TargetSpec) -> SourceWatcher {
        SourceWatcher(root: spec.source, mode: configuration.watchMode(for: spec), symlinks: configuration.symlinks(for: spec)) { [weak self] events in
            self?.engine.handle(index, events)
        }
    }

    private func handle(signal: Int32) {
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

    /// What SIGUSR1 does: the operator ends the acquisition; the run finishes and verifies.
    public func endAcquisition() {
        handle(signal: SIGUSR1)
    }

    /// What a first SIGINT does: stop after the transfers under way (resumable).
    public func interrupt() {
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
    private func waitForNextLook(after lastLook: MonotonicInstant) {
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

    private var interrupted: Bool { signals.withLock { $0.interrupts > 0 } }
    var operatorEnded: Bool { signals.withLock { $0.endRequested } }

    static let defaultDiscoveryWait: Duration = .seconds(3)

    private func mainLoop() -> ExitStatus {
        var writerGone = false
        var lastProgress = MonotonicInstant.zero
        var lastPlacementCheck = MonotonicInstant.zero
        while true {
            if interrupted { return .interrupted }
            let now = Clock.now()
            if now - lastPlacementCheck >= .seconds(1) {
                lastPlacementCheck = now
                if let status = checkPlacement(now: now) { return status }
                if remote != nil { removeLocalSupersededCopies() }
            }
            if let full = localCopier?.destinationFull.withLock({ $0 }) {
                return destinationFull(target: full.target, full.error)
            }
            if let pid = configuration.writerPID, !writerGone, !ProcessProbe.isRunning(pid) {
                writerGone = true
                logger.info("the writer (pid \(pid)) exited")
            }
            for runtime in runtimes {
                if let event = observe(runtime, writerGone: writerGone, now: now) { drive(runtime, event) }
            }
            if now - lastProgress >= .milliseconds(250) {
                lastProgress = now
                drawProgress(now: now)
            }
            if runtimes.allSatisfy(\.isDone) {
                console.endProgress()
                return runtimes.compactMap(\.exitStatus).max() ?? .verified
            }
            waitForNextLook(after: now)
        }
    }
}
