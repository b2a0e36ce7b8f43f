import Synchronization
import SoftcopyCore
import SoftcopyIO

/// One archive's moving parts on the main thread: where it comes from and goes to, its
/// watcher, and where it is in the end-of-acquisition sequence.
final class TargetRuntime {
    enum Stage {
        case live
        /// After the end: waiting for the tracker to drain, then verifying (round n of 3).
        case finishing(round: Int)
        case done(ArchiveVerdict)
    }

    let index: Int
    /// The engine lanes of this archive, one per copy (`replicas`); the first is the one
    /// used for what all copies share (source events, the end marker).
    let lanes: Range<Int>
    var lane: Int { lanes.lowerBound }
    let spec: TargetSpec
    /// Local mode only; with agents the destination is under each agent's root.
    let destination: DestinationTree?
    let journal: JournalFile?
    /// The local destination's lock, held until the run ends.
    var lock: DestinationLock?
    var watcher: SourceWatcher
    var stage: Stage = .live
    var endReason: EndReason?
    var leftovers: [RelativePath] { finalScan?.temporaries ?? [] }
    /// What the final rescan found besides files (folders, unreadable folders, skipped entries).
    var finalScan: SourceWatcher.ScanResult?
    /// Files an earlier run had already verified (from the journal).
    var resumedFiles = 0
    /// Idle time is measured from the later of the last source change and this.
    var idleBaseline: MonotonicInstant
    let started: MonotonicInstant
    let startedWall: String
    var finished: MonotonicInstant?
    var exitStatus: ExitStatus?
    /// The placement policy could not be met since then (with the problem last reported).
    /// Written by the main loop and read by the status API on NIO's threads, so behind a
    /// lock: an unlocked read of the message while it is replaced is a race on a String.
    var placementProblem: (since: MonotonicInstant, message: String, reported: Bool)? {
        get { problem.withLock { $0 } }
        set { problem.withLock { $0 = newValue } }
    }
    private let problem = Mutex<(since: MonotonicInstant, message: String, reported: Bool)?>(nil)

    init(index: Int, lanes: Range<Int>, spec: TargetSpec, destination: DestinationTree?, journal: JournalFile?, watcher: SourceWatcher, now: MonotonicInstant) {
        self.index = index
        self.lanes = lanes
        self.spec = spec
        self.destination = destination
        self.journal = journal
        self.watcher = watcher
        self.idleBaseline = now
        self.started = now
        self.startedWall = Clock.wallTimestamp()
    }

    var isLive: Bool {
        if case .live = stage { return true }
        return false
    }

    var isDone: Bool {
        if case .done = stage { return true }
        return false
    }
}
