import Logging
import Synchronization
import SoftcopyAgent
import SoftcopyCore
import SoftcopyIO

/// A coordinator without agents copies through the agents' own job (`CopyJob`), in its
/// process: this channel leases from the engine as the local node, reads each chunk from
/// the source straight into the job's writer, and journals and completes what the job
/// made durable. No HTTP, no second copy of the pipeline.
final class InProcessChannel: WorkChannel {
    /// One lane's source and destination, by lane index.
    struct Lane: Sendable {
        let sourceRoot: String
        let links: SourceLinks
        let destination: DestinationTree
        let journal: JournalFile
    }

    let engine: Engine
    let lanes: [Lane]
    let rateLimiter: RateLimiter?
    /// Pause after each item (`--sleep-time`, the original softcopy's).
    let sleepTime: Duration?
    /// SHA-256 and MD5 of what is read, where `checksums:` asks.
    let digests: ContentDigests?
    let logger: Logger
    /// Whether an agent could take what the local destination has no room for.
    private let othersCanTake: @Sendable () -> Bool
    /// The local destination that ran out of space with nobody else to take the work:
    /// the main loop ends the run with one message instead of thousands of retries.
    let destinationFull = Mutex<(lane: LaneID, error: SystemError)?>(nil)

    init(engine: Engine, lanes: [Lane], rateLimiter: RateLimiter?, sleepTime: Duration?, digests: ContentDigests?, logger: Logger,
         othersCanTake: @escaping @Sendable () -> Bool) {
        self.engine = engine
        self.digests = digests
        self.lanes = lanes
        self.rateLimiter = rateLimiter
        self.sleepTime = sleepTime
        self.logger = logger
        self.othersCanTake = othersCanTake
    }

    func connect() -> any WorkConnection { InProcessConnection(channel: self) }

    /// The coordinator is this process.
    func coordinatorIsGone() -> Bool { false }

    /// Ends the run if nobody else can take what did not fit; true if so.
    func destinationIsFull(lane: LaneID, _ error: SystemError) -> Bool {
        guard !othersCanTake() else { return false }
        destinationFull.withLock { $0 = $0 ?? (lane, error) }
        return true
    }
}
