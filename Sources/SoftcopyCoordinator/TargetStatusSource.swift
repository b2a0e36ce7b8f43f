import Synchronization
import SoftcopyCore

/// What the status API, on NIO's threads, reads of one archive: facts fixed at the start,
/// and the placement problem the main loop last reported.
final class TargetStatusSource: Sendable {
    let index: TargetIndex
    /// The lane used for what all copies share.
    let lane: LaneID
    let source: String
    let destination: String
    let placement: String
    /// The placement policy could not be met since then (with the problem last reported).
    /// Behind a lock: an unlocked read of the message while it is replaced is a race on a String.
    let problem = Mutex<(since: MonotonicInstant, message: String, reported: Bool)?>(nil)
    /// What removing the source did (`remove_source`), once it has run.
    let removal = Mutex<SourceRemovalReport?>(nil)

    init(index: TargetIndex, lane: LaneID, source: String, destination: String, placement: String) {
        self.index = index
        self.lane = lane
        self.source = source
        self.destination = destination
        self.placement = placement
    }
}
