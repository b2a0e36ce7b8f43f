import Synchronization
import SoftcopyCore
import SoftcopyIO

/// One archive's moving parts on the main thread: where it comes from and goes to, its
/// watcher, and its lifecycle.
final class TargetRuntime {
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
    /// Where the archive is between the first event and the verdict.
    var lifecycle: ArchiveLifecycle
    var endReason: EndReason? { lifecycle.endReason }
    /// The last verification round's first mismatch, and how many were on agents that
    /// are gone (for the warning when they are copied again).
    var lastMismatch: (first: RelativePath, onAbsentAgents: Int)?
    var leftovers: [RelativePath] { finalScan?.temporaries ?? [] }
    /// What the final rescan found besides files (folders, unreadable folders, skipped entries).
    var finalScan: SourceWatcher.ScanResult?
    /// Files an earlier run had already verified (from the journal).
    var resumedFiles = 0
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

    init(index: Int, lanes: Range<Int>, spec: TargetSpec, destination: DestinationTree?, journal: JournalFile?, watcher: SourceWatcher,
         lifecycle: ArchiveLifecycle.Settings, now: MonotonicInstant) {
        self.lifecycle = ArchiveLifecycle(settings: lifecycle, startedAt: now)
        self.index = index
        self.lanes = lanes
        self.spec = spec
        self.destination = destination
        self.journal = journal
        self.watcher = watcher
        self.started = now
        self.startedWall = Clock.wallTimestamp()
    }

    var isLive: Bool { lifecycle.isLive }
    var isDone: Bool { lifecycle.isDone }
}
