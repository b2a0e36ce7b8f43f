import Glibc
import Logging
import Synchronization
import SoftcopyAgent
import SoftcopyDiscovery
import SoftcopyCore
import SoftcopyIO

/// The run of one `Job`, on the job's thread and only there: its setup, its main loop, and
/// each archive's lifecycle. What other threads may touch is in `controls`, the engine and
/// the fleet, each with an owner of its own.
final class CoordinatorRun {
    /// The job's name on the wire.
    let job: String
    let configuration: CoordinatorConfiguration
    let controls: RunControls
    var console: ConsoleOutput { controls.console }
    var logger: Logger { controls.logger }
    var runtimes: [TargetRuntime] = []
    var engine: Engine!
    var rates = RateMeter()
    /// When the progress line was last logged (no terminal).
    var lastProgressLog = MonotonicInstant.zero
    /// Set when agents take part (see Coordinator+Remote): always with agents, and in a
    /// local copy while discovery may still bring agents in.
    var remote: RemoteSide?
    /// Agents do the copying: there is no local destination.
    var isRemote = false
    var discovery: AgentDiscovery?
    /// The start-up comparison of bytes to copy with free space was made.
    var capacityChecked = false
    /// The local copy (no agent at the start): the agents' job, run in process.
    var local: (job: CopyJob, channel: InProcessChannel)?

    /// SHA-256 and MD5 of what is read, where `checksums:` asks.
    let digests: ContentDigests?

    /// The service's Avahi browser, asked for only if discovery is on.
    private let sharedDiscovery: () -> AgentDiscovery?

    init(job: Job, discovery: @escaping () -> AgentDiscovery?) {
        self.job = job.id
        self.configuration = job.configuration
        self.controls = job.controls
        self.sharedDiscovery = discovery
        self.digests = ContentDigests(job.configuration.settings.checksums ?? [])
    }

    func run() -> ExitStatus {
        let status = runJob()
        // A job refused before its copy began is in the history too, with why.
        if status == .usage, !runtimes.contains(where: { $0.historyRow != nil }) { recordRefusal() }
        return status
    }

    private func runJob() -> ExitStatus {
        if let pid = configuration.writerPID, !ProcessProbe.isRunning(pid) {
            logger.error("--writer-pid \(pid): no such process is running")
            return .usage
        }
        let staticAgents = configuration.settings.agents ?? []
        var found: [String] = []
        if configuration.settings.discovery ?? true {
            let discovery = sharedDiscovery()
            self.discovery = discovery
            if let discovery, staticAgents.isEmpty {
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

        publishStatus(fleet: nil)
        if isRemote || discovery != nil {
            do {
                try startRemote()
            } catch {
                logger.error("\(error)")
                return .usage
            }
        }
        if !isRemote { startLocalCopy() }
        // Once nothing can refuse the job any more: a refusal has its own rows (`run`).
        recordStarts()

        for runtime in runtimes {
            if configuration.once {
                // The source is finished: this one scan is also the final one.
                runtime.finalScan = runtime.watcher.scanOnce(.initial)
            } else {
                runtime.watcher.start()
            }
        }

        let status = mainLoop()
        // Archives that ended without a verdict (the placement could not be met, a full
        // destination) are told too; an interrupted run is not over, and tells nothing.
        for runtime in runtimes where runtime.exitStatus == nil {
            if status == .interrupted {
                recordEnd(runtime, endSummary(runtime, status: status, verdict: nil, statistics: nil, manifest: [],
                                              reason: "interrupted before the end (resumable)"))
            } else {
                reportEnd(runtime, endSummary(runtime, status: status, verdict: nil, statistics: nil, manifest: [],
                                              reason: "the run stopped before this archive's verdict (see the log)"))
            }
        }
        drawProgress(now: Clock.now(), draw: false)
        controls.surface.freeze()
        engine.shutdown()
        local?.job.stop()
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
                if interrupted { return .interrupted }
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
            let lanes = (nextLane..<(nextLane + replicas)).map(LaneID.init)
            nextLane += replicas
            let fresh = { Engine.TargetState(tracker: ArchiveTracker(configuration: self.configuration.trackerConfiguration(for: spec)), started: now) }
            if isRemote {
                // The agents' listings say what is already there; they are merged as each agent attaches.
                states.append(lanes.map { _ in fresh() })
                runtimes.append(TargetRuntime(index: TargetIndex(index), lanes: lanes, spec: spec, destination: nil, journal: nil,
                                              placement: configuration.placement(for: spec).description, lifecycle: lifecycleSettings, now: now))
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
            let runtime = TargetRuntime(index: TargetIndex(index), lanes: lanes, spec: spec, destination: destination, journal: journal,
                                        placement: configuration.placement(for: spec).description, lifecycle: lifecycleSettings, now: now)
            runtime.resumedFiles = preparation.fromJournal
            runtime.lock = lock
            runtimes.append(runtime)
        }
        engine = Engine(lanes: states, placements: configuration.targets.map { configuration.placement(for: $0) },
                        sourceRoots: configuration.targets.map(\.source),
                        sourceLinks: configuration.targets.map { SourceLinks(policy: configuration.symlinks(for: $0), root: $0.source) },
                        logger: logger)
        engine.onChange { [controls] in controls.nudge() }
        for runtime in runtimes {
            // Before the first scan: a file an earlier run removed is not a deletion.
            resumeRemoval(runtime)
            runtime.watcher = makeWatcher(index: runtime.index, spec: runtime.spec)
        }
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

    func makeWatcher(index: TargetIndex, spec: TargetSpec) -> SourceWatcher {
        SourceWatcher(root: spec.source, mode: configuration.watchMode(for: spec), symlinks: configuration.symlinks(for: spec)) { [engine = engine!] events in
            engine.handle(index, events)
        }
    }

    private var interrupted: Bool { controls.interrupted }
    var operatorEnded: Bool { controls.operatorEnded }

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
                for runtime in runtimes { liveRemovalRound(runtime) }
            }
            if let full = local?.channel.destinationFull.withLock({ $0 }) {
                return destinationFull(lane: full.lane, full.error)
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
            controls.waitForNextLook(after: now)
        }
    }
}
