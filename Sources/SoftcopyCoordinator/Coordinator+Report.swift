import Logging
import SoftcopyCore
import Synchronization
import SoftcopyIO

extension CoordinatorRun {
    /// The live line: files and bytes done of those seen, rate, the time since the start,
    /// retries, the time left once the end is known (`--once`, or every acquisition
    /// ended), and the time since the source last changed. On a terminal it is redrawn
    /// in place; without one (`--progress auto`, as under systemd) it is a log line a
    /// minute.
    /// `draw: false` only publishes the figures for the dashboard (the final ones, after
    /// the summary).
    func drawProgress(now: MonotonicInstant, draw: Bool = true) {
        var done = 0, seen = 0, retries = 0
        var doneBytes: UInt64 = 0, seenBytes: UInt64 = 0, copied: UInt64 = 0
        var sinceChange: Duration?
        var inPlace = false
        for runtime in runtimes {
            let p = engine.peek(runtime.lane) { $0.tracker.progress(now: now) }
            done += p.counters.doneFiles
            seen += p.counters.seenFiles
            doneBytes &+= p.counters.doneBytes
            seenBytes &+= p.counters.seenBytes
            inPlace = inPlace || p.inPlaceActive
            if let s = p.sinceLastSourceChange { sinceChange = min(sinceChange ?? s, s) }
            // What was copied and retried, over every copy (replicas).
            for lane in runtime.lanes {
                let s = engine.peek(lane) { $0.tracker.statistics }
                copied &+= s.copiedBytes
                retries += s.retries
            }
        }
        rates.record(total: copied, at: now)
        let stage: String
        if runtimes.allSatisfy(\.isLive) {
            stage = "copying"
        } else if runtimes.contains(where: \.isLive) {
            stage = "copying/finishing"
        } else {
            stage = "finishing"
        }
        var line = "softcopy \(stage)  \(done)/\(seen) files  \(Quantity.formatBytes(doneBytes))/\(Quantity.formatBytes(seenBytes))  \(Quantity.formatRate(bytesPerSecond: rates.bytesPerSecond))"
        let started = runtimes.map(\.started).min() ?? now
        line += "  elapsed \(Quantity.formatDuration(now - started))"
        if retries > 0 { line += "  \(retries) retries" }
        // Time left only once no more is coming: while live, the total is still growing.
        var eta: Double?
        if configuration.once || !runtimes.contains(where: \.isLive), rates.bytesPerSecond > 0, seenBytes > doneBytes {
            eta = Double(seenBytes - doneBytes) / rates.bytesPerSecond
            line += "  ETA \(Quantity.formatDuration(.secondsValue(eta ?? 0)))"
        }
        controls.surface.figures.withLock {
            $0 = JobSurface.Figures(stage: runtimes.allSatisfy(\.isDone) ? "done" : stage, bytesPerSecond: rates.bytesPerSecond,
                                    elapsedSeconds: (now - started).secondsValue, etaSeconds: eta, retries: retries)
        }
        if let sinceChange { line += "  last write \(Quantity.formatDuration(sinceChange)) ago" }
        if inPlace { line += "  (in-place writer: waiting for quiet)" }
        guard draw else { return }
        if console.interactive, controls.drawsProgress {
            console.progress(line)
        } else if console.logsProgress || (console.interactive && !controls.drawsProgress), now - lastProgressLog >= Self.progressLogInterval {
            lastProgressLog = now
            logger.info("\(line)")
        }
    }

    /// Without a terminal, the progress line is logged this often.
    static let progressLogInterval: Duration = .seconds(60)

    /// What removing the source did: how much the source held, how much went, the free
    /// space of its filesystem before and after, and each file that stayed.
    func removalLines(_ r: SourceRemovalReport, source: String) -> [String] {
        var lines: [String] = []
        let free = { (bytes: UInt64?) in bytes.map(Quantity.formatBytes) ?? "unknown" }
        if let refused = r.refused {
            let during = r.removedFiles > 0 ? "\(r.removedFiles) chunk files (\(Quantity.formatBytes(r.removedBytes))) were removed during the acquisition, each verified on its nodes; " : ""
            lines.append("  source NOT removed (remove_source: \(r.mode.rawValue)): \(refused); \(during)the source holds \(r.sourceFiles - r.removedFiles) files (\(Quantity.formatBytes(r.sourceBytes &- r.removedBytes))), \(free(r.freeBefore)) free\(r.journal.map { "; removal journal \($0)" } ?? "")")
            return lines
        }
        if r.dryRun {
            lines.append("  dry run (remove_source: \(r.mode.rawValue)): would remove \(r.removedFiles) of the source's \(r.sourceFiles) files (\(Quantity.formatBytes(r.removedBytes)) of \(Quantity.formatBytes(r.sourceBytes))); nothing was removed; \(free(r.freeBefore)) free")
        } else {
            let earlier = r.removedEarlier > 0 ? ", \(r.removedEarlier) more by an earlier run" : ""
            let root = r.rootRemoved ? "the source folder is gone" : "the source folder stays (\(r.kept.count) files kept; removal journal \(r.journal ?? "not kept"))"
            lines.append("  source removed (remove_source: \(r.mode.rawValue)): \(r.removedFiles) of \(r.sourceFiles) files, \(Quantity.formatBytes(r.removedBytes)) of \(Quantity.formatBytes(r.sourceBytes))\(earlier); \(r.foldersRemoved) folders; \(root)")
            lines.append("  free space at the source: \(free(r.freeBefore)) before, \(free(r.freeAfter)) after")
        }
        if !r.kept.isEmpty {
            lines.append("  kept at the source (\(r.kept.count)):")
            for kept in r.kept.prefix(50) { lines.append("    \(source)/\(kept.path): \(kept.reason)") }
            if r.kept.count > 50 { lines.append("    ... and \(r.kept.count - 50) more (all are in the manifest)") }
        }
        return lines
    }

    func printSummary(_ runtime: TargetRuntime, verdict: ArchiveVerdict, statistics: TrackerStatistics, status: ExitStatus,
                      manifest: ManifestPlaces, superseded: [Manifest.SupersededCopies]) {
        console.endProgress()
        let elapsed = (runtime.finished ?? Clock.now()) - runtime.started
        let seconds = max(elapsed.secondsValue, 1e-3)
        let mark = status == .verified ? "OK" : (status == .verifiedWithLeftovers ? "OK, with leftovers" : "INCOMPLETE")
        var lines: [String] = []
        let to = runtime.destination == nil ? "\(runtime.spec.agentDestination) on the agents" : runtime.spec.destination
        lines.append("softcopy \(mark): \(runtime.spec.source) -> \(to)")
        lines.append("  \(verdict.verified.count) files, \(Quantity.formatBytes(verdict.verifiedBytes)) verified in \(Quantity.formatDuration(elapsed)) (\(Quantity.formatRate(bytesPerSecond: Double(statistics.copiedBytes) / seconds)) copied on average)")
        if let reason = runtime.endReason { lines.append("  end: \(reason)") }
        let copies = engine.lanes(of: runtime.index).count
        let amplification = Amplification.ratio(copiedBytes: statistics.copiedBytes, archiveBytes: verdict.verifiedBytes, copies: copies)
            .map { " (amplification \(Amplification.format($0)): bytes sent ÷ the archive's)" } ?? ""
        lines.append("  copied \(statistics.copiedFiles) files (\(Quantity.formatBytes(statistics.copiedBytes))\(amplification)), \(runtime.resumedFiles + engine.seededCount(runtime.index) + statistics.unchanged) already there, \(statistics.deletedFiles) deleted, \(statistics.retries) retries; found only by the final rescan: \(verdict.foundByFinalScan)")
        if let wire = remote?.api.reader.wireTotals(engine.lanes(of: runtime.index)), wire.chunks > 0 {
            lines.append("  compressed on the wire: \(wire.chunks) chunks, \(Quantity.formatBytes(wire.rawBytes)) sent as \(Quantity.formatBytes(wire.wireBytes)) (\(Amplification.format(wire.ratio)) smaller)")
        }
        if let maximum = verdict.maximumChunkFiles {
            lines.append("  zarr: \(verdict.arrays) arrays, \(verdict.groups) groups, at most \(maximum) chunk files (chunks never written are fill value)")
        }
        // Where the copies are, when more than one node holds them.
        var perNode: [NodeID: Int] = [:]
        for file in verdict.verified { for holder in file.holders { perNode[holder, default: 0] += 1 } }
        if perNode.keys.contains(where: { !$0.isLocal }) {
            let names = Dictionary(uniqueKeysWithValues: (remote?.fleet.snapshot ?? []).map { ($0.id, $0.name ?? $0.url) })
            let parts = perNode.sorted { $0.key < $1.key }.map { id, n in "\(id.isLocal ? "here" : names[id] ?? "agent \(id)") \(n)" }
            lines.append("  held by: \(parts.joined(separator: ", "))\(runtime.lanes.count > 1 ? " (\(runtime.lanes.count) copies of each file)" : "")")
        }
        // Copies of keys on nodes the record does not name, left at the end.
        for left in superseded {
            let what = "superseded copies of \(left.paths.count) file\(left.paths.count == 1 ? "" : "s") (older versions or duplicates of files whose copy is on another node; listed in the manifest)"
            if left.reachable {
                lines.append("  \(left.node) still holds \(what): they could not be removed (see the warnings above)")
            } else {
                lines.append("  \(left.node) was not reachable at the end: it may still hold \(what); the next run, or verify --repair, removes them once it is back")
            }
        }
        // Only where it really was stored.
        var places: [String] = manifest.local.map { [$0] } ?? []
        if !manifest.agents.isEmpty {
            places.append("\(runtime.spec.agentDestination)/\(Manifest.relativePath) on \(manifest.agents.joined(separator: ", "))")
        }
        lines.append("  manifest: \(places.isEmpty ? "NOT WRITTEN (see the errors above)" : places.joined(separator: "; "))")
        func list(_ title: String, _ items: [String]) {
            guard !items.isEmpty else { return }
            lines.append("  \(title) (\(items.count)):")
            for item in items.prefix(50) { lines.append("    \(item)") }
            if items.count > 50 { lines.append("    ... and \(items.count - 50) more (all are in the manifest)") }
        }
        list("PROBLEMS", verdict.problems.map { "\($0.path): \($0.kind)" })
        list("LEFTOVERS of a crashed writer at the source (the data they held was never completed)",
             verdict.leftovers.map { "\(runtime.spec.source)/\($0)" })
        list("kept at the destination although gone from the source (deleting was not allowed)", verdict.keptDeletions.map(\.string))
        list("files at the destination that softcopy did not write and the source does not have (left alone)", verdict.extraneous.map(\.string))
        list("symbolic links at the source left out (symlinks: skip)", verdict.skipped.map(\.description))
        if let removal = runtime.removal { lines += removalLines(removal, source: runtime.spec.source) }
        for line in lines { console.line(line) }
    }
}
