import Glibc
import Logging
import SoftcopyCore
import SoftcopyHTTP
import SoftcopyIO

extension Agent {
    /// The room this agent reports to coordinators (health, acks) for placement: its
    /// data root's free space for a folder; for a bucket, what is left under its quota
    /// (`--s3-quota`), or nil: unbounded (no quota) or not counted yet.
    func storeSpace() -> (free: UInt64?, total: UInt64?) {
        guard configuration.objectStore != nil else {
            let (free, total) = space()
            return (free, total)
        }
        guard let usage = bucketUsage else { return (nil, nil) }
        return (usage.room, usage.quota)
    }

    /// The room a transfer may claim: the data root's free space (a bucket agent's chunks
    /// are staged there), and, under a quota, no more than the quota's room.
    func writableSpace() -> UInt64 {
        let staging = heldSpace().free
        return min(staging, bucketUsage?.room ?? .max)
    }

    /// Counts the bytes under the bucket prefix once, on a thread of its own, for the
    /// quota. A server that does not answer is asked again, with pauses growing from 1 s
    /// to 60 s, until it answers or the agent stops; meanwhile the room is unknown.
    func countBucketSoon() {
        guard let usage = bucketUsage, let settings = configuration.objectStore, let clients = objectClients else { return }
        OSThread(name: "sc-bucket-count") { [self] in
            var pause: Duration = .seconds(1)
            while !isStopping {
                usage.countBegins()
                var bytes: UInt64 = 0
                var objects = 0
                let result = clients.with { s3 -> Result<Void, S3Error> in
                    do throws(S3Error) {
                        try s3.forEachPage(prefix: settings.location.prefix) { page in
                            for object in page { bytes &+= object.size }
                            objects += page.count
                        }
                        return .success(())
                    } catch {
                        return .failure(error)
                    }
                }
                switch result {
                case .success:
                    usage.counted(bytes)
                    logger.info("\(settings.location) holds \(Quantity.formatBytes(bytes)) in \(objects) objects; quota \(Quantity.formatBytes(usage.quota)), \(Quantity.formatBytes(usage.room ?? 0)) left")
                    return
                case .failure(let error):
                    logger.warning("cannot count what \(settings.location) holds for its quota (\(error)); asking again in \(pause)")
                    Clock.sleep(pause)
                    pause = min(pause * 2, .seconds(60))
                }
            }
        }.detach()
    }
}
