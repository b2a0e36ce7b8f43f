import Logging
import SoftcopyCore
import SoftcopyIO

/// The I/O shell of each archive's `ArchiveLifecycle`: the main loop reports what the
/// stage asks for, and the actions the lifecycle answers with are performed here.
extension CoordinatorRun {
    /// What the main loop reports for an archive on this tick, as its stage asks.
    func observe(_ runtime: TargetRuntime, writerGone: Bool, now: MonotonicInstant) -> ArchiveLifecycle.Event? {
        switch runtime.lifecycle.stage {
        case .live:
            let marker = RelativePath(unchecked: ZarrNaming.endMarkerName)
            // A look only reads: `peek` wakes no one (a change would wake this loop again).
            let (markerPresent, lastChange) = engine.peek(runtime.lane) {
                ($0.tracker.sourceVersion(of: marker) != nil, $0.tracker.statistics.lastSourceChange)
            }
            let signals = ArchiveLifecycle.Signals(
                operatorEnded: operatorEnded, writerExited: writerGone ? configuration.writerPID : nil,
                endMarkerPresent: markerPresent, lastSourceChange: lastChange)
            return .live(signals, at: now)
        case .awaitingTemporaries:
            // A writer may still be finishing a file when the end is signalled.
            let remaining = runtime.leftovers.count(where: { (try? FileStatus.of(runtime.spec.source + "/" + $0.string)) != nil })
            return .temporaries(remaining: remaining, at: now)
        case .finishing:
            let drained = runtime.lanes.allSatisfy { lane in engine.peek(lane) { $0.tracker.isDrained } }
            // An agent still attaching may hold files judged here (a rerun over a finished
            // copy): without its listing each would count as missing and be sent again.
            let attaching = remote?.fleet.snapshot.contains { $0.state == .connecting } ?? false
            return .progress(drained: drained, agentsAttaching: attaching)
        case .confirmingIdle, .ending, .verifying, .done:
            return nil  // waiting for an action's report, or over
        }
    }

    /// Feeds `event` to the archive's lifecycle and performs what it answers, feeding
    /// back each action's report until there is none.
    func drive(_ runtime: TargetRuntime, _ event: ArchiveLifecycle.Event) {
        var reports = [event]
        while !reports.isEmpty {
            let next = reports.removeFirst()
            for action in runtime.lifecycle.handle(next) {
                if let report = perform(action, runtime) { reports.append(report) }
            }
        }
    }

    private func perform(_ action: ArchiveLifecycle.Action, _ runtime: TargetRuntime) -> ArchiveLifecycle.Event? {
        switch action {
        case .confirmIdle:
            // An idle timeout is only a hint: a rescan must find nothing new before it counts.
            let changes = { self.engine.withLaneState(runtime.lane) { $0.tracker.statistics.sourceChanges } }
            let before = changes()
            runtime.watcher.stop()
            let scan = runtime.watcher.scanOnce(.final)
            let found = changes() - before
            if found == 0 {
                runtime.finalScan = scan
            } else if let idle = configuration.settings.idleTimeout {
                logger.info("\(runtime.spec.source) was idle for \(Quantity.formatDuration(idle)), but a rescan found \(found) changes; still watching")
            }
            return .idleRescanned(changes: Int(found), at: Clock.now())
        case .resumeWatching:
            runtime.watcher = makeWatcher(index: runtime.index, spec: runtime.spec)
            runtime.watcher.start()
            return nil
        case .ended(let reason, let rescan):
            runtime.watcher.stop()
            if rescan {
                logger.info("\(runtime.spec.source): the acquisition ended (\(reason)); final rescan")
                runtime.finalScan = runtime.watcher.scanOnce(.final)
            } else if reason != .once {
                logger.info("\(runtime.spec.source): the acquisition ended (\(reason))")  // the idle check has just rescanned
            }
            return .rescanned(temporaries: runtime.leftovers.count, at: Clock.now())
        case .rescan:
            runtime.finalScan = runtime.watcher.scanOnce(.final)
            return nil
        case .beginFinalPhase:
            for lane in runtime.lanes {
                engine.withLaneState(lane) { $0.tracker.beginFinalPhase(at: Clock.now()) }
            }
            return nil
        case .verify(let round, let mirrorFolders):
            return .verified(mismatched: verifyRound(runtime, round: round, mirrorFolders: mirrorFolders))
        case .copyAgain(let count, _):
            let (first, onAbsentAgents) = runtime.lastMismatch ?? (RelativePath(unchecked: "?"), 0)
            let gone = onAbsentAgents > 0 ? " (\(onAbsentAgents) of them on agents that are gone or not answering)" : ""
            logger.warning("\(count) destination files are no longer as verified\(gone) (first: \(first)); copying them again")
            return nil
        case .finish:
            finish(runtime)
            return nil
        }
    }
}
