import Synchronization
import SoftcopyCore
import SoftcopyIO

/// One archive's moving parts on the main thread: where it comes from and goes to, its
/// watcher, and its lifecycle.
final class TargetRuntime {
    let index: TargetIndex
    /// The engine lanes of this archive, one per copy (`replicas`); the first is the one
    /// used for what all copies share (source events, the end marker).
    let lanes: [LaneID]
    var lane: LaneID { lanes[0] }
    let spec: TargetSpec
    /// Local mode only; with agents the destination is under each agent's root.
    let destination: DestinationTree?
    let journal: JournalFile?
    /// The local destination's lock, held until the run ends.
    var lock: DestinationLock?
    /// Made once the engine exists (it feeds the engine), and made again when an idle
    /// check's rescan finds changes and watching resumes.
    var watcher: SourceWatcher!
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
    /// The removal journal an earlier run left beside the source (`remove_source`), with
    /// what this run's live rounds planned and removed.
    var removalJournalState: RemovalRecord.State?
    /// `remove_source: live`: the journal and the source tree once the first round opened
    /// them, what the rounds removed, and why they stopped if they did.
    var liveJournal: RemovalJournal?
    var sourceTree: DestinationTree?
    var liveRemoved: (files: Int, bytes: UInt64) = (0, 0)
    var liveRemovalStopped: String?
    var lastLiveRound = MonotonicInstant.zero
    /// Another copy's destination, when an earlier run removed files of this source after
    /// copying them there: this run removes nothing.
    var foreignRemoval: String?
    /// Arrays `live` has said it keeps whole until the verdict.
    var liveRefusedArrays: Set<RelativePath> = []
    /// What removing the source did, for the summary and the status document.
    var removal: SourceRemovalReport? {
        get { status.removal.withLock { $0 } }
        set { status.removal.withLock { $0 = newValue } }
    }
    /// This archive's row in the job history.
    var historyRow: Int64?
    let started: MonotonicInstant
    let startedWall: String
    var finished: MonotonicInstant?
    var exitStatus: ExitStatus?
    /// What the status API reads of this archive.
    let status: TargetStatusSource
    /// The placement policy could not be met since then (with the problem last reported).
    /// Written by the main loop, read by the status API.
    var placementProblem: (since: MonotonicInstant, message: String, reported: Bool)? {
        get { status.problem.withLock { $0 } }
        set { status.problem.withLock { $0 = newValue } }
    }

    init(index: TargetIndex, lanes: [LaneID], spec: TargetSpec, destination: DestinationTree?, journal: JournalFile?,
         placement: String, lifecycle: ArchiveLifecycle.Settings, now: MonotonicInstant) {
        self.status = TargetStatusSource(index: index, lane: lanes[0], source: spec.source, destination: spec.agentDestination, placement: placement)
        self.lifecycle = ArchiveLifecycle(settings: lifecycle, startedAt: now)
        self.index = index
        self.lanes = lanes
        self.spec = spec
        self.destination = destination
        self.journal = journal
        self.started = now
        self.startedWall = Clock.wallTimestamp()
    }

    var isLive: Bool { lifecycle.isLive }
    var isDone: Bool { lifecycle.isDone }
}
