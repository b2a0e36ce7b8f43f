import SoftcopyCore
import Synchronization
import SoftcopyHTTP
import SoftcopyIO

extension CoordinatorRun {
    /// `GET /metrics`: the status document's figures in the Prometheus text format, built
    /// on NIO's threads from what each archive shares (as `statusDocument` is). Per target,
    /// the files and bytes present and done are the first copy's; what was copied and
    /// retried is summed over every copy (`replicas`).
    static func metrics(job: String, targets: [TargetStatusSource], engine: Engine, fleet: AgentFleet?, reader: ChunkReader? = nil) -> [MetricFamily] {
        let now = Clock.now()
        var info = MetricFamily("softcopy_coordinator_info", .gauge, help: "The coordinator's version and job (always 1).")
        info.add(1, [("version", SoftcopyVersion.string), ("job", job)])
        var present = MetricFamily("softcopy_files_present", .gauge, help: "Files the source holds, as far as softcopy has seen.")
        var done = MetricFamily("softcopy_files_done", .gauge, help: "Files whose current version is durable at the destination.")
        var presentBytes = MetricFamily("softcopy_bytes_present", .gauge, help: "Bytes of the files the source holds.")
        var doneBytes = MetricFamily("softcopy_bytes_done", .gauge, help: "Bytes of the files whose current version is durable at the destination.")
        var copied = MetricFamily("softcopy_copied_files_total", .counter, help: "Files copied by this run, every copy counted.")
        var copiedBytes = MetricFamily("softcopy_copied_bytes_total", .counter, help: "Bytes copied by this run, every copy counted.")
        var failed = MetricFamily("softcopy_failed_files", .gauge, help: "Files whose copy failed for good.")
        var retrying = MetricFamily("softcopy_retrying_files", .gauge, help: "Files whose last copy failed for a reason that may pass, waiting to be tried again.")
        var retries = MetricFamily("softcopy_retries_total", .counter, help: "Transfers tried again after a transient failure.")
        var inFlight = MetricFamily("softcopy_in_flight", .gauge, help: "Transfers leased and not yet reported.")
        var lag = MetricFamily("softcopy_lag_seconds", .gauge, help: "How long the oldest file still to copy has waited since it last changed (0: nothing waits).")
        var phase = MetricFamily("softcopy_phase", .gauge, help: "The archive's phase: 1 for the one it is in.")
        var amplification = MetricFamily("softcopy_amplification_ratio", .gauge, help: "Bytes copied by this run over the bytes of the archive's copies (1: every file sent once).")
        var wireChunks = MetricFamily("softcopy_wire_compressed_chunks_total", .counter, help: "Chunks sent to agents compressed (wire_compression).")
        var wireRaw = MetricFamily("softcopy_wire_compressed_source_bytes_total", .counter, help: "Source bytes of the chunks sent compressed.")
        var wireSent = MetricFamily("softcopy_wire_compressed_bytes_total", .counter, help: "Bytes those chunks took on the wire.")
        var removedFiles = MetricFamily("softcopy_source_removed_files", .gauge, help: "Files removed from the source once verified (remove_source).")
        var removedBytes = MetricFamily("softcopy_source_removed_bytes", .gauge, help: "Bytes removed from the source once verified (remove_source).")
        for target in targets {
            let labels = [("target", String(target.index.rawValue)), ("source", target.source)]
            let first = engine.peek(target.lane) { ($0.tracker.progress(now: now), $0.tracker.oldestPending(now: now)) }
            let c = first.0.counters
            present.add(c.seenFiles, labels)
            done.add(c.doneFiles, labels)
            presentBytes.add(c.seenBytes, labels)
            doneBytes.add(c.doneBytes, labels)
            failed.add(c.failedFiles, labels)
            retrying.add(c.retryingFiles, labels)
            lag.add(first.1?.secondsValue ?? 0, labels)
            var all = TrackerStatistics()
            var leased = 0
            let lanes = engine.lanes(of: target.index)
            for lane in lanes {
                let (s, l) = engine.peek(lane) { ($0.tracker.statistics, $0.tracker.counters.inFlight) }
                all.copiedFiles += s.copiedFiles
                all.copiedBytes &+= s.copiedBytes
                all.retries += s.retries
                leased += l
            }
            copied.add(all.copiedFiles, labels)
            copiedBytes.add(all.copiedBytes, labels)
            if let ratio = Amplification.ratio(copiedBytes: all.copiedBytes, archiveBytes: c.seenBytes, copies: lanes.count) {
                amplification.add(ratio, labels)
            }
            retries.add(all.retries, labels)
            inFlight.add(leased, labels)
            let wire = reader?.wireTotals(lanes) ?? WireTotals()
            wireChunks.add(wire.chunks, labels)
            wireRaw.add(wire.rawBytes, labels)
            wireSent.add(wire.wireBytes, labels)
            for name in ["live", "final"] {
                phase.add((first.0.phase == .live) == (name == "live") ? 1 : 0, labels + [("phase", name)])
            }
            let removal = target.removal.withLock { $0 }
            removedFiles.add(removal?.dryRun == false ? removal?.removedFiles ?? 0 : 0, labels)
            removedBytes.add(removal?.dryRun == false ? removal?.removedBytes ?? 0 : 0, labels)
        }
        var agentState = MetricFamily("softcopy_agent_state", .gauge, help: "Each agent's state: 1 for the one it is in.")
        var agentFree = MetricFamily("softcopy_agent_free_bytes", .gauge, help: "Free bytes an agent last reported for its data root.")
        var agentFiles = MetricFamily("softcopy_agent_acked_files_total", .counter, help: "Files an agent reported durable.")
        var agentBytes = MetricFamily("softcopy_agent_acked_bytes_total", .counter, help: "Bytes an agent reported durable.")
        for member in fleet?.snapshot ?? [] {
            let labels = [("agent", member.name ?? member.url), ("url", member.url)]
            for state in ["connecting", "attached", "down", "refused"] {
                agentState.add(member.state.rawValue == state ? 1 : 0, labels + [("state", state)])
            }
            if let free = member.freeBytes { agentFree.add(free, labels) }
            agentFiles.add(member.filesAcked, labels)
            agentBytes.add(member.bytesAcked, labels)
        }
        return [info, present, done, presentBytes, doneBytes, copied, copiedBytes, failed, retrying, retries, inFlight, lag, phase,
                amplification, wireChunks, wireRaw, wireSent, removedFiles, removedBytes, agentState, agentFree, agentFiles, agentBytes]
    }
}
