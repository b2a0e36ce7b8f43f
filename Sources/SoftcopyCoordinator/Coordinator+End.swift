import Logging
import SoftcopyCore
import SoftcopyIO

extension CoordinatorRun {
    /// Gives the destination the source's folder structure: folders the source has are
    /// made, and empty folders it no longer has are removed (when deletions are allowed).
    private func mirrorDirectories(_ runtime: TargetRuntime) {
        guard let scan = runtime.finalScan, scan.rootPresent, let destinationTree = runtime.destination else { return }
        let sourceDirectories = scan.directories
        let mayDelete = engine.withLaneState(runtime.lane) {
            $0.tracker.deletionsAuthorized && $0.tracker.configuration.deletions != .never
        }
        do {
            let existing = try destinationTree.directories()
            for directory in sourceDirectories.subtracting(existing).sorted() {
                _ = try destinationTree.openDirectory(directory, create: true)
            }
            if mayDelete {
                // Deepest first, so a folder emptied by removing its children goes too.
                for directory in existing.filter({ !sourceDirectories.contains($0) }).sorted(by: { $0.string.count > $1.string.count }) {
                    try destinationTree.removeEmptyDirectory(directory)
                }
            }
        } catch {
            logger.warning("cannot mirror the folder structure at \(destinationTree.rootPath): \(error)")
        }
    }

    /// One verification round: checks every destination file where its holder keeps it
    /// (the local destination, or that agent's listing) and records the results in the
    /// trackers. Returns how many no longer match; the lifecycle decides whether they are
    /// copied again (up to three rounds) or judged.
    func verifyRound(_ runtime: TargetRuntime, round: Int, mirrorFolders: Bool) -> Int {
        if mirrorFolders { mirrorDirectories(runtime) }
        let checkStarted = Clock.now()
        let files = runtime.lanes.map { lane in (lane, engine.withLaneState(lane) { $0.tracker.filesToVerify() }) }
        let listings = files.contains { $0.1.contains { !$0.record.holder.isLocal } } ? agentListings(runtime) : [:]
        let listed = Clock.now()
        var mismatched: [RelativePath] = []
        var onAbsentAgents = 0
        for (lane, laneFiles) in files {
            let local = localMatches(laneFiles, destination: runtime.destination)
            var results: [(Int, Bool)] = []
            results.reserveCapacity(laneFiles.count)
            for (i, (path, record, id)) in laneFiles.enumerated() {
                let matches: Bool
                if record.holder.isLocal {
                    matches = local[i]
                } else {
                    matches = listings[record.holder]?[path]?.matches(record) ?? false
                }
                results.append((id, matches))
                if !matches {
                    mismatched.append(path)
                    if !record.holder.isLocal, listings[record.holder] == nil { onAbsentAgents += 1 }
                }
            }
            engine.withLaneState(lane) { state in
                let now = Clock.now()
                for (id, matches) in results { state.tracker.recordVerification(id: id, matches: matches, at: now) }
            }
        }
        let count = files.reduce(0) { $0 + $1.1.count }
        logger.debug("end check of \(runtime.spec.source), round \(round): \(count) files, agents' listings fetched in \(Quantity.formatDuration(listed - checkStarted)), checked in \(Quantity.formatDuration(Clock.now() - listed))")
        runtime.lastMismatch = mismatched.first.map { ($0, onAbsentAgents) }
        return mismatched.count
    }

    /// `verify` for each file the local destination holds (false for the rest), in slices
    /// on all cores: a stat per file, or a whole read with --verify-full.
    private func localMatches(_ files: [(path: RelativePath, record: DestinationRecord, id: Int)], destination: DestinationTree?) -> [Bool] {
        guard let destination, files.contains(where: { $0.record.holder.isLocal }) else { return Array(repeating: false, count: files.count) }
        let full = configuration.verifyFull
        return Parallel.mapRanges(files.count, minimum: 256) { range in
            files[range].map { file in file.record.holder.isLocal && Self.verify(destination, file.path, file.record, full: full) }
        }.flatMap { $0 }
    }

    /// Re-checks one destination file: still the very file whose checksum was verified
    /// when it landed (inode, size, mtime), or with --verify-full, re-read and re-hashed.
    private static func verify(_ destination: DestinationTree, _ path: RelativePath, _ record: DestinationRecord, full: Bool) -> Bool {
        if full {
            guard let file = try? destination.openForReading(path) else { return false }
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
            defer { buffer.deallocate() }
            guard let (checksum, length) = try? file.checksum(buffer: buffer) else { return false }
            return checksum == record.checksum && length == record.version.size
        }
        guard let status = try? destination.status(of: path), status.kind == .regular else { return false }
        return status.version.inode == record.inode && status.version.size == record.version.size
            && status.version.mtimeNanoseconds == record.version.mtimeNanoseconds
    }

    func finish(_ runtime: TargetRuntime) {
        let verdictStarted = Clock.now()
        defer { logger.debug("verdict and manifest of \(runtime.spec.source) in \(Quantity.formatDuration(Clock.now() - verdictStarted))") }
        var verdicts: [ArchiveVerdict] = []
        var statistics = TrackerStatistics()
        var records: [(RelativePath, DestinationRecord)] = []
        for lane in runtime.lanes {
            let (v, st, r) = engine.withLaneState(lane) { state in
                (state.tracker.verdict(leftovers: runtime.leftovers, hierarchy: state.hierarchy,
                                       unreadable: runtime.finalScan?.unreadable ?? [:], skipped: runtime.finalScan?.skipped ?? [],
                                       notCopied: runtime.finalScan?.uncopyable ?? [:]),
                 state.tracker.statistics, state.tracker.destinationRecords(heldBy: .local))
            }
            verdicts.append(v)
            if lane == runtime.lane {
                statistics = st
            } else {
                statistics.copiedFiles += st.copiedFiles
                statistics.copiedBytes &+= st.copiedBytes
                statistics.retries += st.retries
            }
            // The local journal lists what the local destination holds.
            records += r
        }
        var verdict = ArchiveVerdict.merging(replicas: verdicts)
        let superseded = removeSupersededCopies(runtime)
        logger.debug("verdict of \(runtime.spec.source) in \(Quantity.formatDuration(Clock.now() - verdictStarted)); writing the manifest")
        runtime.finished = Clock.now()
        var manifest = Manifest(
            softcopyVersion: SoftcopyVersion.string, source: runtime.spec.source, destination: runtime.spec.destination,
            host: Clock.hostName(), started: runtime.startedWall, finished: Clock.wallTimestamp(),
            endReason: runtime.endReason, verdict: verdict, statistics: statistics)
        manifest.nodeNames[.local] = Clock.hostName()
        for member in remote?.fleet.snapshot ?? [] {
            manifest.nodeNames[member.id] = member.name ?? member.url
            manifest.nodeURLs[member.id] = member.url
        }
        if remote != nil { manifest.placement = configuration.placement(for: runtime.spec).description }
        manifest.superseded = superseded
        var status = verdict.exitStatus
        var stored = storeManifest(runtime, manifest, verdict: verdict, status: &status)
        if let removal = removeSource(runtime, verdict: &verdict, status: status, manifestStoredOn: stored.nodes) {
            runtime.removal = removal
            if removal.leftFilesBehind, status == .verified || status == .verifiedWithLeftovers { status = .incomplete }
            if !stored.nodes.isEmpty {
                // The record of what went from the source (or why nothing did), on every node.
                manifest.verdict = verdict
                manifest.sourceRemoval = removal
                manifest.finished = Clock.wallTimestamp()
                var ignored = status
                stored = storeManifest(runtime, manifest, verdict: verdict, status: &ignored)
            }
        }
        do {
            try runtime.journal?.compact(records)
        } catch {
            logger.warning("cannot compact the journal: \(error)")
        }
        runtime.exitStatus = status
        printSummary(runtime, verdict: verdict, statistics: statistics, status: status, manifest: stored, superseded: superseded)
        let places = (stored.local.map { [$0] } ?? []) + stored.agents.map { "\(runtime.spec.agentDestination)/\(Manifest.relativePath) on \($0)" }
        reportEnd(runtime, endSummary(runtime, status: status, verdict: verdict, statistics: statistics, manifest: places, reason: nil))
    }

    /// Where the manifest was stored: the summary names only those.
    struct ManifestPlaces {
        var local: String?
        var agents: [String] = []
        /// The nodes that hold it (the local destination is node 0).
        var nodes: Set<NodeID> = []
    }

    /// Writes the manifest and the checksum list on every node: the local destination,
    /// and each attached agent. A manifest that could not be stored makes the run
    /// INCOMPLETE where nothing else holds it.
    private func storeManifest(_ runtime: TargetRuntime, _ manifest: Manifest, verdict: ArchiveVerdict, status: inout ExitStatus) -> ManifestPlaces {
        var stored = ManifestPlaces()
        // Once for every node's lists, not once per agent.
        if let digests { fillMissingDigests(runtime, verdict, digests) }
        if let destinationTree = runtime.destination {
            do {
                try writeManifest(manifest, to: destinationTree)
                stored.local = destinationTree.displayPath(Manifest.relativePath)
                stored.nodes.insert(.local)
            } catch {
                logger.error("cannot write the manifest at \(destinationTree.rootPath): \(error)")
                status = .incomplete
            }
            for (algorithm, list) in checksumLists(runtime, verdict, holder: .local) {
                do {
                    try destinationTree.writeWhole(algorithm.listPath, list)
                } catch {
                    logger.warning("cannot write the checksum list \(destinationTree.displayPath(algorithm.listPath)): \(error)")
                }
            }
        }
        if remote?.fleet.snapshot.contains(where: { $0.state == .attached }) ?? false || isRemote {
            let agents = sendManifestToAgents(runtime, manifest)
            stored.agents = agents.map(\.name)
            stored.nodes.formUnion(agents.map(\.id))
            if agents.isEmpty, isRemote { status = .incomplete }
        }
        return stored
    }

    /// The checksum lists of the files `holder` holds (`ChecksumList`; every file with
    /// nil): XXH3-128's, and SHA-256's and MD5's where `checksums:` asks. A file left out
    /// is said once per list, with why.
    func checksumLists(_ runtime: TargetRuntime, _ verdict: ArchiveVerdict, holder: NodeID?) -> [(ChecksumAlgorithm, [UInt8])] {
        let (bytes, leftOut) = ChecksumList.lines(verdict.verified, holder: holder)
        if leftOut > 0 {
            logger.notice("\(leftOut) file names with a newline, a backslash or bytes that are not UTF-8 are left out of \(ChecksumList.relativePath) (xxh128sum reads none of these); the manifest lists them")
        }
        var lists = [(ChecksumAlgorithm.xxh128, bytes)]
        guard let digests else { return lists }
        let root = runtime.spec.source
        for algorithm in digests.algorithms {
            let (bytes, leftOut) = ChecksumList.lines(verdict.verified, holder: holder) { file, out in
                guard let hex = digests.hex(root: root, path: file.path, checksum: file.checksum, algorithm) else { return false }
                out += hex.utf8
                return true
            }
            if leftOut > 0 {
                logger.notice("\(leftOut) files are left out of \(algorithm.listPath): names \(algorithm.tool) cannot read, or files copied by an earlier run whose source is gone (their \(algorithm.rawValue) was never computed); xxh128sums and the manifest list them")
            }
            lists.append((algorithm, bytes))
        }
        return lists
    }

    /// SHA-256 and MD5 of verified files this run did not read (an earlier run copied
    /// them): from the local copy, or from the source while it is there. The only second
    /// read `checksums:` costs, and only on a resumed copy.
    private func fillMissingDigests(_ runtime: TargetRuntime, _ verdict: ArchiveVerdict, _ digests: ContentDigests) {
        let root = runtime.spec.source
        guard let algorithm = digests.algorithms.first else { return }
        let missing = verdict.verified.filter { digests.hex(root: root, path: $0.path, checksum: $0.checksum, algorithm) == nil }
        guard !missing.isEmpty else { return }
        let source = try? DestinationTree(root: root, create: false)
        let buffer = UnsafeMutableRawBufferPointerBox(size: ChunkReader.bufferSize)
        var computed = 0
        for file in missing {
            if let destination = runtime.destination,
               digests.compute(root: root, path: file.path, checksum: file.checksum, open: { () throws(SystemError) in try destination.openForReading(file.path) }, buffer: buffer.buffer) {
                computed += 1
            } else if let source,
                      digests.compute(root: root, path: file.path, checksum: file.checksum, open: { () throws(SystemError) in try source.openForReading(file.path) }, buffer: buffer.buffer) {
                computed += 1
            }
        }
        logger.info("\(computed) of \(missing.count) files copied by an earlier run were read again for their \(digests.algorithms.map(\.rawValue).joined(separator: " and "))")
    }

    private func writeManifest(_ manifest: Manifest, to destination: DestinationTree) throws(SystemError) {
        var bytes = Self.manifestBytes(manifest, indent: 1)
        bytes.append(UInt8(ascii: "\n"))
        try destination.writeWhole(Manifest.relativePath, bytes)
    }

    /// The manifest's bytes, its entries written in slices on all cores: a million files
    /// make 150 MB of JSON, and the run's verdict waits for it.
    static func manifestBytes(_ manifest: Manifest, indent: Int? = nil) -> [UInt8] {
        manifest.bytes(indent: indent, entries: manifestEntries(manifest))
    }

    /// The entries' lines, written once for the several nodes that store a manifest.
    static func manifestEntries(_ manifest: Manifest) -> [[UInt8]] {
        Parallel.mapRanges(manifest.verdict.verified.count, minimum: 10_000) { manifest.entryLines($0) }
    }
}
