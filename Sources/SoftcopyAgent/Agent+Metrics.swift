import Synchronization
import SoftcopyCore
import SoftcopyHTTP

extension Agent {
    /// `GET /metrics`: the health document's figures in the Prometheus text format.
    func metrics() -> [MetricFamily] {
        let (free, total) = space()
        let root = [("agent", configuration.name), ("root", configuration.root)]
        var info = MetricFamily("softcopy_agent_info", .gauge, help: "The agent's version (always 1).")
        info.add(1, root + [("version", SoftcopyVersion.string)])
        var freeBytes = MetricFamily("softcopy_agent_root_free_bytes", .gauge, help: "Free bytes on the data root's filesystem.")
        freeBytes.add(free, root)
        var totalBytes = MetricFamily("softcopy_agent_root_total_bytes", .gauge, help: "Size of the data root's filesystem.")
        totalBytes.add(total, root)
        var reserve = MetricFamily("softcopy_agent_reserve_bytes", .gauge, help: "Free space the agent never fills (--reserve).")
        reserve.add(configuration.reserve, root)
        var rootProblem = MetricFamily("softcopy_agent_root_problem", .gauge, help: "1 while the data root cannot take work (not mounted, gone).")
        rootProblem.add(dataRoot.report.problem == nil ? 0 : 1, root)
        var files = MetricFamily("softcopy_agent_files_total", .counter, help: "Files this agent made durable, per job.")
        var bytes = MetricFamily("softcopy_agent_bytes_total", .counter, help: "Bytes this agent made durable, per job.")
        var deleted = MetricFamily("softcopy_agent_deleted_files_total", .counter, help: "Files this agent deleted for a job.")
        var failures = MetricFamily("softcopy_agent_failures_total", .counter, help: "Transfers that failed at this agent, per job.")
        var batches = MetricFamily("softcopy_agent_batches_in_flight", .gauge, help: "Batches this agent is working on, per job.")
        for job in jobs.withLock({ Array($0.values) }) {
            let c = job.snapshot
            let labels = root + [("job", job.attachment.job)]
            files.add(c.files, labels)
            bytes.add(c.bytes, labels)
            deleted.add(c.deleted, labels)
            failures.add(c.failures, labels)
            batches.add(c.batchesInFlight, labels)
        }
        var bucket: [MetricFamily] = []
        if let usage = bucketUsage, let store = configuration.objectStore {
            let labels = root + [("store", "\(store.location)")]
            var quota = MetricFamily("softcopy_agent_bucket_quota_bytes", .gauge, help: "The most the agent stores under its bucket prefix (--s3-quota).")
            quota.add(usage.quota, labels)
            bucket.append(quota)
            // Absent until the prefix is counted: an unknown is not a zero.
            if let stored = usage.stored {
                var held = MetricFamily("softcopy_agent_bucket_stored_bytes", .gauge, help: "Bytes of the objects under the agent's bucket prefix.")
                held.add(stored, labels)
                bucket.append(held)
            }
        }
        return [info, freeBytes, totalBytes, reserve, rootProblem, files, bytes, deleted, failures, batches] + bucket
    }
}
