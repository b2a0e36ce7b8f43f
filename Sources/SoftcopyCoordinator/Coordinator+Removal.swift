import Logging
import SoftcopyCore
import SoftcopyIO

/// Removing the source once its copy is verified (`remove_source`, docs/operations.md).
/// What keeps it safe: nothing goes unless the whole target's verdict is OK, the manifest
/// is stored on every node that holds a file, each file is held as many times as
/// `replicas` asks, the plan is durable beside the source before the first unlink, and
/// each file at the source is still the very version that was verified (checked, moved
/// aside, checked again: `DestinationTree.removeIfUnchanged`).
extension CoordinatorRun {
    /// Reads the removal journal an earlier run left, so files it removed count as moved
    /// to the destination (on every copy's lane), never as deletions to carry there.
    func resumeRemoval(_ runtime: TargetRuntime) {
        let state: RemovalRecord.State?
        do {
            state = try RemovalJournal.load(source: runtime.spec.source)
        } catch {
            logger.warning("cannot read the removal journal \(RemovalJournal.location(ofSource: runtime.spec.source)): \(error); files an earlier run removed from the source are not deleted at the destination anyway (deletions need the source's root metadata)")
            return
        }
        guard let state, !state.planned.isEmpty else { return }
        guard state.destination == runtime.spec.destination else {
            // Files went from this source to another copy: removing more now would split
            // the acquisition between two copies, each with a manifest of part of it.
            runtime.foreignRemoval = state.destination
            logger.warning("\(runtime.spec.source) was partly removed by a run that copied it to \(state.destination) (removal journal \(RemovalJournal.location(ofSource: runtime.spec.source))): those files are in that copy, not in \(runtime.spec.destination); nothing more is removed from the source by this run")
            return
        }
        runtime.removalJournalState = state
        // A removal killed between moving a file aside and unlinking it left the aside
        // name: finish those now, before the scan takes them for a writer's leftovers.
        if let tree = try? DestinationTree(root: runtime.spec.source, create: false) {
            for (path, planned) in state.planned where state.removed[path] == nil {
                guard (try? tree.status(of: path)) == .some(nil) else { continue }
                _ = tree.removeIfUnchanged(path, expected: planned.version)
            }
        }
        let now = Clock.now()
        for lane in runtime.lanes {
            engine.withLaneState(lane) { s in
                for (path, planned) in state.planned { s.tracker.sourceRemoved(path, version: planned.version, at: now) }
            }
        }
        logger.info("an earlier run was removing \(runtime.spec.source) after its copy was verified (\(state.removed.count) of \(state.planned.count) planned files removed); those files count as copied, and the rest is removed once this run's verdict is OK")
    }

    /// One verified file that may go from the source.
    private struct Candidate {
        var path: RelativePath
        var version: FileVersion
        var checksum: Checksum
        var role: FileRole
    }

    /// Removes the source's verified files after the verdict (`after-verify`, and the
    /// rest of `live`), or says what it would remove (`--dry-run`). `stored` names the
    /// nodes that hold the manifest just written.
    func removeSource(_ runtime: TargetRuntime, verdict: inout ArchiveVerdict, status: ExitStatus, manifestStoredOn stored: Set<NodeID>) -> SourceRemovalReport? {
        let mode = configuration.removeSource(for: runtime.spec)
        guard mode != .never else { return nil }
        var report = SourceRemovalReport(mode: mode)
        report.dryRun = configuration.dryRun
        let replicas = runtime.lanes.count
        let holders = Set(verdict.verified.flatMap(\.holders))
        // The conditions for the whole target, most telling first.
        if status != .verified && status != .verifiedWithLeftovers {
            let first = verdict.problems.first.map { ", the first \($0.path)" } ?? ""
            report.refused = "the copy is not complete (\(verdict.problems.count) problem\(verdict.problems.count == 1 ? "" : "s")\(first)); every file stays until a run ends OK"
        } else if let other = runtime.foreignRemoval {
            report.refused = "an earlier run removed files of this source after copying them to \(other); removing more would split the acquisition between two copies: finish that copy (the same destination), or move its journal \(RemovalJournal.location(ofSource: runtime.spec.source)) away"
        } else if !verdict.sourceRootPresent || runtime.finalScan?.rootPresent == false {
            report.refused = "the source's root folder is gone"
        } else if let missing = holders.subtracting(stored).min() {
            report.refused = "the manifest could not be stored on \(nodeName(missing)), which holds copies: without it the copy cannot be verified once the source is gone"
        } else if let short = verdict.verified.first(where: { Set($0.holders).count < replicas }) {
            report.refused = "\(short.path) is held \(Set(short.holders).count) times, not \(replicas)"
        }
        let (candidates, present, removedBefore) = removalCandidates(runtime, verdict)
        // What this run's live rounds removed counts as removed now, not earlier.
        report.removedFiles = runtime.liveRemoved.files
        report.removedBytes = runtime.liveRemoved.bytes
        report.sourceFiles = present.files + runtime.liveRemoved.files
        report.sourceBytes = present.bytes &+ runtime.liveRemoved.bytes
        report.removedEarlier = removedBefore - runtime.liveRemoved.files
        for path in runtime.finalScan?.temporaries ?? [] {
            report.kept.append(.init(path: path, reason: "not copied: a writer's temp file, which softcopy does not copy", byRule: true))
        }
        for (path, message) in runtime.finalScan?.uncopyable ?? [:] {
            report.kept.append(.init(path: path, reason: "not copied: \(message)", byRule: true))
        }
        for path in runtime.finalScan?.skipped ?? [] {
            report.kept.append(.init(path: path, reason: "not copied: a symbolic link left out (symlinks: skip)", byRule: true))
        }
        let space = FileSystemSpace.of(runtime.spec.source)
        report.freeBefore = space.total > 0 ? space.free : nil
        if let refused = report.refused {
            logger.error("the source \(runtime.spec.source) is not removed: \(refused)")
            if runtime.removalJournalState != nil { report.journal = RemovalJournal.location(ofSource: runtime.spec.source) }
            return report
        }
        if report.dryRun {
            report.removedFiles = candidates.count
            report.removedBytes = candidates.reduce(0) { $0 &+ $1.version.size }
            report.sourceFiles = present.files
            report.sourceBytes = present.bytes
            console.line("dry run: remove_source \(mode.rawValue) would remove \(candidates.count) files (\(Quantity.formatBytes(report.removedBytes))) from \(runtime.spec.source), then its emptied folders:")
            for candidate in candidates.prefix(50) { console.line("  would remove \(candidate.path)") }
            if candidates.count > 50 { console.line("  ... and \(candidates.count - 50) more") }
            return report
        }
        executeRemoval(runtime, candidates, report: &report, verdict: &verdict)
        return report
    }

    /// The verified files still at the source, data first, then metadata, then the end
    /// marker (a source left half-removed by a crash still reads as an archive for as
    /// long as possible); and what the source held.
    private func removalCandidates(_ runtime: TargetRuntime, _ verdict: ArchiveVerdict) -> ([Candidate], (files: Int, bytes: UInt64), removedBefore: Int) {
        engine.peek(runtime.lane) { state in
            var candidates: [Candidate] = []
            for file in verdict.verified {
                guard let version = state.tracker.sourceVersion(of: file.path) else { continue }
                candidates.append(Candidate(path: file.path, version: version, checksum: file.checksum, role: file.role))
            }
            let order: (FileRole) -> Int = { role in role == .data ? 0 : role == .metadata ? 1 : 2 }
            candidates.sort { (order($0.role), $0.path) < (order($1.role), $1.path) }
            let progress = state.tracker.progress(now: Clock.now())
            let removedBefore = verdict.verified.filter { state.tracker.isRemovedFromSource($0.path) }
            let bytes = progress.counters.seenBytes &- removedBefore.reduce(0) { $0 &+ $1.size }
            return (candidates, (progress.counters.seenFiles - removedBefore.count, bytes), removedBefore.count)
        }
    }

    private func executeRemoval(_ runtime: TargetRuntime, _ candidates: [Candidate], report: inout SourceRemovalReport, verdict: inout ArchiveVerdict) {
        let source = runtime.spec.source
        report.started = Clock.wallTimestamp()
        // The plan, durable beside the source before anything goes.
        var state = runtime.removalJournalState ?? RemovalRecord.State(destination: runtime.spec.destination)
        for candidate in candidates { state.planned[candidate.path] = .init(version: candidate.version, checksum: candidate.checksum) }
        let journal: RemovalJournal
        let tree: DestinationTree
        runtime.liveJournal = nil
        do {
            journal = try RemovalJournal(source: source, state: state)
            tree = try DestinationTree(root: source, create: false)
        } catch {
            report.refused = "the removal journal \(RemovalJournal.location(ofSource: source)) cannot be written (\(error)): nothing is removed without it"
            logger.error("the source \(source) is not removed: \(report.refused!)")
            return
        }
        var removedAt = state.removed
        var pending: [RemovalRecord] = []
        let now = Clock.now()
        // Not stopped by a graceful shutdown: unlinks are quick, and a half-removed source
        // needs another run. A second signal (or SIGKILL) stops it; the journal resumes it.
        // Inodes a name of which went already (this run, its live rounds or an earlier run):
        // their ctime changed with it.
        var removedInodes = Set(state.removed.keys.compactMap { state.planned[$0]?.version.inode })
        for candidate in candidates {
            let outcome = tree.removeIfUnchanged(candidate.path, expected: candidate.version, linkRemoved: removedInodes.contains(candidate.version.inode))
            switch outcome {
            case .removed, .alreadyGone:
                removedInodes.insert(candidate.version.inode)
                let time = Clock.wallNanoseconds()
                removedAt[candidate.path] = time
                pending.append(.removed(candidate.path, wallNanoseconds: time))
                report.removedFiles += 1
                report.removedBytes &+= candidate.version.size
            case .changed:
                report.kept.append(.init(path: candidate.path, reason: "changed at the source since its copy was verified: run again to copy it, and it is removed then", byRule: false))
            case .symbolicLink:
                report.kept.append(.init(path: candidate.path, reason: "a symbolic link, copied as what it points to: links stay", byRule: true))
            case .failed(let error):
                report.kept.append(.init(path: candidate.path, reason: "cannot remove it: \(error)", byRule: false))
            }
            if pending.count >= 4096 { flushRemovals(journal, &pending) }
        }
        flushRemovals(journal, &pending)
        for lane in runtime.lanes {
            engine.withLaneState(lane) { s in
                for candidate in candidates where removedAt[candidate.path] != nil {
                    s.tracker.sourceRemoved(candidate.path, version: candidate.version, at: now)
                }
            }
        }
        for i in verdict.verified.indices { verdict.verified[i].removedAt = removedAt[verdict.verified[i].path] }
        removeEmptiedFolders(runtime, tree, report: &report)
        if report.rootRemoved {
            do {
                try journal.finish()
            } catch {
                logger.warning("cannot remove the removal journal \(journal.path): \(error)")
                report.journal = journal.path
            }
        } else {
            // Kept while the root stays: a later run must know these files went on purpose.
            report.journal = journal.path
        }
        let space = FileSystemSpace.of(report.rootRemoved ? PathNormalizer.directory(of: source) : source)
        report.freeAfter = space.total > 0 ? space.free : nil
        report.finished = Clock.wallTimestamp()
        report.kept.sort { $0.path < $1.path }
    }

    private func flushRemovals(_ journal: RemovalJournal, _ pending: inout [RemovalRecord]) {
        guard !pending.isEmpty else { return }
        do {
            try journal.append(pending)
            journal.sync()
        } catch {
            logger.warning("cannot append to the removal journal \(journal.path): \(error) (its plan still says these files were verified)")
        }
        pending.removeAll(keepingCapacity: true)
    }

    /// Folders the removal emptied, deepest first, then the root. A folder that still
    /// holds something (a file softcopy did not copy, a kept one) stays, and so do those
    /// above it.
    private func removeEmptiedFolders(_ runtime: TargetRuntime, _ tree: DestinationTree, report: inout SourceRemovalReport) {
        let folders = (runtime.finalScan?.directories ?? []).sorted { $0.string.count > $1.string.count }
        for folder in folders {
            if (try? tree.removeEmptyDirectory(folder)) == true { report.foldersRemoved += 1 }
        }
        let source = runtime.spec.source
        // A source given as a link to the archive: the link is the user's, and stays.
        guard (try? FileStatus.of(source))??.kind == .directory else { return }
        let parent = PathNormalizer.directory(of: source)
        guard let parentTree = try? DestinationTree(root: parent, create: false),
              let name = try? RelativePath(validating: String(source.split(separator: "/").last ?? ""))
        else { return }
        report.rootRemoved = (try? parentTree.removeEmptyDirectory(name)) == true
        if !report.rootRemoved {
            logger.notice("the source folder \(source) is not empty after the removal, and stays: \(report.kept.count) files were kept (listed in the summary and the manifest)")
        }
    }

    func nodeName(_ id: NodeID) -> String {
        if id.isLocal { return "this host" }
        return remote?.fleet.label(of: id) ?? "agent \(id)"
    }
}

extension CoordinatorRun {
    /// How long a chunk must be unchanged before `live` removes it (beyond the writer
    /// having moved past it): five quiet periods (10 s by default), so an in-place writer
    /// is long done with it.
    func liveRemovalSettle(_ spec: TargetSpec) -> Duration {
        max(.seconds(1), configuration.trackerConfiguration(for: spec).quietPeriod * 5)
    }

    /// At most this many files per round, so the main loop stays responsive.
    static let liveRemovalBatch = 2048

    /// One round of `remove_source: live` for one archive: the chunk files the writer has
    /// moved past whose current version every copy holds, durable and checked where it
    /// landed, on nodes that are reachable. The plan is journaled and made durable first;
    /// each file is marked removed in every copy's tracker before its unlink (so the
    /// watcher's event for it is no deletion), and marked back if it stayed.
    func liveRemovalRound(_ runtime: TargetRuntime) {
        guard configuration.removeSource(for: runtime.spec) == .live, !configuration.dryRun, runtime.isLive, runtime.liveRemovalStopped == nil,
              runtime.foreignRemoval == nil else { return }
        let now = Clock.now()
        let settle = liveRemovalSettle(runtime.spec)
        // A round looks at every file of the archive under the engine's lock: one every
        // fifth of the settle time (2 s by default) is soon enough.
        guard now - runtime.lastLiveRound >= settle / 5 else { return }
        runtime.lastLiveRound = now
        let (rewritten, rootPresent) = engine.peek(runtime.lane) { ($0.tracker.rewrittenAfterRemoval, $0.tracker.deletionsAuthorized) }
        if rewritten > 0 {
            runtime.liveRemovalStopped = "the writer wrote a chunk again after softcopy removed it"
            logger.error("remove_source live stops for \(runtime.spec.source): the writer wrote a chunk again after softcopy removed it (see the problems at the end); nothing more is removed while the acquisition runs")
            return
        }
        guard rootPresent else { return }
        sayLayoutsLiveRefuses(runtime)
        // What every copy holds, at the same version, on a node that answers.
        var agreed: [RelativePath: ArchiveTracker.LiveRemovalCandidate] = [:]
        var holders: [RelativePath: Set<NodeID>] = [:]
        for (n, lane) in runtime.lanes.enumerated() {
            let candidates = engine.peek(lane) { $0.tracker.liveRemovalCandidates(hierarchy: $0.hierarchy, now: now, settle: settle) }
            if n == 0 {
                for c in candidates { agreed[c.path] = c; holders[c.path] = [c.holder] }
            } else {
                var next: [RelativePath: ArchiveTracker.LiveRemovalCandidate] = [:]
                for c in candidates where agreed[c.path]?.version == c.version {
                    next[c.path] = agreed[c.path]
                    holders[c.path, default: []].insert(c.holder)
                }
                agreed = next
            }
        }
        let reachable = { (node: NodeID) in node.isLocal || self.remote?.fleet.isAttached(node) == true }
        let batch = agreed.values
            .filter { c in holders[c.path].map { $0.count == runtime.lanes.count && $0.allSatisfy(reachable) } ?? false }
            .sorted { $0.path < $1.path }
            .prefix(Self.liveRemovalBatch)
        guard !batch.isEmpty else { return }
        guard let (journal, tree) = liveRemovalTools(runtime) else { return }
        do {
            try journal.append(batch.map { .planned($0.path, $0.version, $0.checksum) })
            journal.sync()
        } catch {
            runtime.liveRemovalStopped = "the removal journal cannot be written"
            logger.error("remove_source live stops for \(runtime.spec.source): cannot write the removal journal \(journal.path): \(error)")
            return
        }
        for c in batch { runtime.removalJournalState?.planned[c.path] = .init(version: c.version, checksum: c.checksum) }
        for lane in runtime.lanes {
            engine.withLaneState(lane) { s in for c in batch { s.tracker.sourceRemoved(c.path, version: c.version, at: now) } }
        }
        var removed: [RemovalRecord] = []
        var stayed: [ArchiveTracker.LiveRemovalCandidate] = []
        for c in batch {
            switch tree.removeIfUnchanged(c.path, expected: c.version) {
            case .removed, .alreadyGone:
                let time = Clock.wallNanoseconds()
                removed.append(.removed(c.path, wallNanoseconds: time))
                runtime.removalJournalState?.removed[c.path] = time
                runtime.liveRemoved.files += 1
                runtime.liveRemoved.bytes &+= c.version.size
            case .changed, .failed, .symbolicLink:
                stayed.append(c)
            }
        }
        if !stayed.isEmpty {
            for lane in runtime.lanes {
                engine.withLaneState(lane) { s in for c in stayed { s.tracker.sourceRemovalUndone(c.path, version: c.version, at: now) } }
            }
        }
        flushRemovals(journal, &removed)
        logger.debug("remove_source live: \(runtime.liveRemoved.files) files (\(Quantity.formatBytes(runtime.liveRemoved.bytes))) removed from \(runtime.spec.source) so far")
    }

    /// Arrays whose chunks `live` never takes while the acquisition runs, said once each:
    /// one without dimensions, or with a chunk grid softcopy does not read, has no first
    /// index to tell that the writer moved past a chunk. Their files go after the verdict.
    /// (An array with one chunk along its first dimension so far is not named: it may
    /// grow, and its chunks go once it has.)
    private func sayLayoutsLiveRefuses(_ runtime: TargetRuntime) {
        let arrays = engine.peek(runtime.lane) { $0.hierarchy.arrays }
        for (path, layout) in arrays where !runtime.liveRefusedArrays.contains(path) {
            let why: String
            if layout.rank == 0 {
                why = "it has no dimensions"
            } else if layout.filesPerDimension == nil {
                why = "its chunk grid is not one softcopy reads"
            } else {
                continue
            }
            runtime.liveRefusedArrays.insert(path)
            let name = path.isRoot ? "the root array" : "array \(path)"
            logger.notice("remove_source live: \(name) of \(runtime.spec.source) keeps its chunks until the verdict: \(why) (docs/operations.md, \"live: which chunks go\")")
        }
    }

    /// The removal journal and the source tree, opened at the first live round.
    private func liveRemovalTools(_ runtime: TargetRuntime) -> (RemovalJournal, DestinationTree)? {
        if let journal = runtime.liveJournal, let tree = runtime.sourceTree { return (journal, tree) }
        do {
            let state = runtime.removalJournalState ?? RemovalRecord.State(destination: runtime.spec.destination)
            runtime.liveJournal = try RemovalJournal(source: runtime.spec.source, state: state)
            runtime.removalJournalState = state
            runtime.sourceTree = try DestinationTree(root: runtime.spec.source, create: false)
        } catch {
            runtime.liveRemovalStopped = "the removal journal cannot be written"
            logger.error("remove_source live stops for \(runtime.spec.source): cannot write the removal journal \(RemovalJournal.location(ofSource: runtime.spec.source)) or open the source: \(error)")
            return nil
        }
        return (runtime.liveJournal!, runtime.sourceTree!)
    }
}
