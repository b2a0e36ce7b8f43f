import Logging
import Synchronization
import SoftcopyAgent
import SoftcopyCore
import SoftcopyIO

extension CoordinatorRun {
    /// Small batches keep the local copy's group commits frequent: a chunk waits for at
    /// most 64 others (or 64 MiB) before it is durable and reported.
    static let localBatchItems = 64
    static let localBatchBytes: UInt64 = 64 << 20

    /// Starts the local copy: the agents' `CopyJob` in this process, reading the sources
    /// directly (`InProcessChannel`) and writing each destination as an agent writes its
    /// root (`FolderStore`), with the local copy's options: every staged file read back and
    /// compared before its rename, O_DIRECT for large files unless turned off, records in
    /// the journal rather than on the files, and no other writer to guard against (the
    /// run holds the destination's lock).
    func startLocalCopy() {
        let engine = self.engine!
        var lanes: [InProcessChannel.Lane] = []
        var stores: [LaneID: FolderStore] = [:]
        for runtime in runtimes {
            guard let destination = runtime.destination, let journal = runtime.journal else { continue }
            for lane in runtime.lanes {
                lanes.append(.init(sourceRoot: runtime.spec.source, links: engine.sourceLinks(ofLane: lane), destination: destination, journal: journal))
                stores[lane] = FolderStore(tree: destination, directIO: configuration.directIO, readBack: true, records: nil, keyLocks: nil)
            }
        }
        let channel = InProcessChannel(
            engine: engine, lanes: lanes, rateLimiter: controls.rateLimiter, sleepTime: configuration.settings.sleepTime, digests: digests, logger: logger,
            othersCanTake: { engine.placementNodes().contains { !$0.id.isLocal && $0.attached } })
        var settings = CopyJob.Settings(
            transfers: configuration.settings.nprocs ?? CoordinatorConfiguration.defaultWorkers,
            batchItems: Self.localBatchItems, batchBytes: Self.localBatchBytes,
            root: runtimes.first?.spec.destination ?? "", freeBytes: { [controls] in controls.localFreeBytes.load(ordering: .relaxed) },
            reserve: nil)
        settings.node = "the local destination"
        settings.slots = controls.transferSlots
        settings.threadSetup = { [ioPriority = configuration.ioPriority, logger] in
            if let error = ioPriority.applyToCurrentThread() {
                logger.debug("cannot set the IO priority of a copy thread: \(error)")
            }
        }
        let attachment = JobAttachment(job: "local", coordinator: "in-process", agent: .local,
                                       targets: runtimes.map { JobAttachment.Target(lane: $0.lane, destination: $0.spec.destination) })
        let job = CopyJob(attachment: attachment, stores: stores, destinations: [:], locks: [], channel: channel,
                          settings: settings, logger: logger) { _ in }
        local = (job, channel)
        job.start()
    }
}
