/// One archive's copy from the first event to the verdict, as a value: the shell feeds it
/// what it saw (with the time), and it answers with what to do next. The readiness of
/// each file is the tracker's; this is the order around it:
///
///     live ──end seen──▶ ending ──final scan──▶ awaiting temporaries ──▶ finishing(1)
///      │ ▲                 (rescan unless          (a writer's temp files         │ drained
///      ▼ │ changes           already final)         renamed, or the grace over)   ▼
///     confirming idle ──no change: end──▶ ending          finishing(n+1) ◀── verifying(n)
///                                                          mismatches, n < 3      │
///                                                                                 ▼ finish ▶ done
///
/// Nothing here blocks: a wait is a stage that the next tick looks at again, with its
/// deadline stated in the stage.
public struct ArchiveLifecycle: Sendable {
    public struct Settings: Sendable {
        /// --once: the source is finished; its one scan is also the final one.
        public var once: Bool
        public var idleTimeout: Duration?
        /// How long a writer's temp files left at the end get to be renamed.
        public var leftoverGrace: Duration
        /// Verification rounds before a file that keeps failing its check is judged.
        public var verificationRounds: Int

        public init(once: Bool = false, idleTimeout: Duration? = nil, leftoverGrace: Duration = .seconds(3), verificationRounds: Int = 3) {
            self.once = once
            self.idleTimeout = idleTimeout
            self.leftoverGrace = leftoverGrace
            self.verificationRounds = max(1, verificationRounds)
        }
    }

    public enum Stage: Sendable, Equatable {
        case live
        /// The idle timeout passed; the confirming rescan was asked for.
        case confirmingIdle
        /// The end was seen; the final scan was asked for.
        case ending
        /// The end was seen with `count` temp files of the writer in the source: they
        /// have until `deadline` to be renamed.
        case awaitingTemporaries(deadline: MonotonicInstant, count: Int)
        /// Waiting for every copy's tracker to drain (and agents attaching to bring their
        /// listings), then verifying round `round`.
        case finishing(round: Int)
        /// Round `round`'s check of every destination file was asked for.
        case verifying(round: Int)
        /// The verdict was asked for.
        case done
    }

    /// What the shell saw of a live archive on this tick.
    public struct Signals: Sendable, Equatable {
        public var operatorEnded: Bool
        /// The writer named with --writer-pid has exited.
        public var writerExited: Int32?
        /// The end marker (`complete`) is in the source.
        public var endMarkerPresent: Bool
        public var lastSourceChange: MonotonicInstant?

        public init(operatorEnded: Bool = false, writerExited: Int32? = nil, endMarkerPresent: Bool = false, lastSourceChange: MonotonicInstant? = nil) {
            self.operatorEnded = operatorEnded
            self.writerExited = writerExited
            self.endMarkerPresent = endMarkerPresent
            self.lastSourceChange = lastSourceChange
        }
    }

    /// What the shell saw. The main loop reports what the stage asks for on each tick
    /// (`.live`, `.temporaries` or `.progress`); actions that ask for a report say so.
    public enum Event: Sendable, Equatable {
        /// The main loop's look at a live archive.
        case live(Signals, at: MonotonicInstant)
        /// The rescan asked for by `.confirmIdle` found this many changes.
        case idleRescanned(changes: Int, at: MonotonicInstant)
        /// This many of the temp files seen at the end are still there.
        case temporaries(remaining: Int, at: MonotonicInstant)
        /// The final scan of `.ended` found `temporaries` temp files of the writer.
        case rescanned(temporaries: Int, at: MonotonicInstant)
        /// The trackers' state while finishing: all drained, and whether an agent is
        /// still attaching (its listing may hold files judged here).
        case progress(drained: Bool, agentsAttaching: Bool)
        /// The check of `.verify` found this many destination files that no longer match.
        case verified(mismatched: Int)
    }

    public enum Action: Sendable, Equatable {
        /// The idle timeout passed: stop watching and rescan; report `.idleRescanned`.
        case confirmIdle
        /// The rescan found changes: watch again.
        case resumeWatching
        /// The acquisition ended for `reason`: stop watching, rescan the source once if
        /// `rescan` (else the last scan was the final one), and report `.rescanned` with
        /// the temp files of the writer that final scan found.
        case ended(EndReason, rescan: Bool)
        /// Some of the end's temp files were renamed: scan once more for what they became.
        case rescan
        /// The trackers stop waiting for more writes (`beginFinalPhase`).
        case beginFinalPhase
        /// Check every destination file where its holder keeps it; report `.verified`.
        /// The first round also gives the destination the source's folders.
        case verify(round: Int, mirrorFolders: Bool)
        /// Files no longer match after round `round`: they are copied again.
        case copyAgain(mismatched: Int, round: Int)
        /// Judge, write the manifest, report.
        case finish
    }

    public let settings: Settings
    public private(set) var stage: Stage = .live
    public private(set) var endReason: EndReason?
    /// Idle time counts from the later of the last source change and this.
    public private(set) var idleBaseline: MonotonicInstant

    public init(settings: Settings, startedAt now: MonotonicInstant) {
        self.settings = settings
        self.idleBaseline = now
    }

    /// Still watching the acquisition (the idle check's rescan included).
    public var isLive: Bool { stage == .live || stage == .confirmingIdle }
    public var isDone: Bool { stage == .done }

    public mutating func handle(_ event: Event) -> [Action] {
        switch (stage, event) {
        case (.live, .live(let signals, let now)):
            return look(signals, at: now)
        case (.confirmingIdle, .idleRescanned(let changes, let now)):
            guard changes == 0, let idle = settings.idleTimeout else {
                stage = .live
                idleBaseline = now
                return [.resumeWatching]
            }
            // The confirming rescan is the final scan: no second one.
            return end(.idleTimeout(idle), rescan: false)
        case (.ending, .rescanned(let temporaries, let now)):
            return awaitTemporaries(temporaries, at: now)
        case (.awaitingTemporaries(let deadline, let count), .temporaries(let remaining, let now)):
            if remaining > 0, now < deadline { return [] }
            stage = .finishing(round: 1)
            // Some were renamed: the files they became need a scan; the rest are a crashed writer's.
            return remaining < count ? [.rescan, .beginFinalPhase] : [.beginFinalPhase]
        case (.finishing(let round), .progress(let drained, let attaching)):
            guard drained, !attaching else { return [] }
            stage = .verifying(round: round)
            return [.verify(round: round, mirrorFolders: round == 1)]
        case (.verifying(let round), .verified(let mismatched)):
            if mismatched > 0, round < settings.verificationRounds {
                stage = .finishing(round: round + 1)
                return [.copyAgain(mismatched: mismatched, round: round)]
            }
            stage = .done
            return [.finish]
        default:
            // An event of another stage (a late tick, a rescan's report after the end
            // moved on): nothing to do.
            return []
        }
    }

    /// A live archive's tick: has the acquisition ended, or has the idle timeout passed?
    private mutating func look(_ signals: Signals, at now: MonotonicInstant) -> [Action] {
        if settings.once { return end(.once, rescan: false) }
        if signals.operatorEnded { return end(.operatorSignal, rescan: true) }
        if let pid = signals.writerExited { return end(.writerExited(pid: pid), rescan: true) }
        if signals.endMarkerPresent { return end(.completeFile, rescan: true) }
        if let idle = settings.idleTimeout {
            let since = max(signals.lastSourceChange ?? idleBaseline, idleBaseline)
            if now - since >= idle {
                stage = .confirmingIdle
                return [.confirmIdle]
            }
        }
        return []
    }

    /// The end: watching stops; the final rescan is asked for unless the last scan was
    /// final (--once, a confirmed idle timeout).
    private mutating func end(_ reason: EndReason, rescan: Bool) -> [Action] {
        endReason = reason
        stage = .ending
        return [.ended(reason, rescan: rescan)]
    }

    private mutating func awaitTemporaries(_ count: Int, at now: MonotonicInstant) -> [Action] {
        if count == 0 {
            stage = .finishing(round: 1)
            return [.beginFinalPhase]
        }
        // The main loop reports `.temporaries` on each tick from now on.
        stage = .awaitingTemporaries(deadline: now + settings.leftoverGrace, count: count)
        return []
    }
}
