extension ArchiveTracker {
    /// The acquisition ended: from now on data goes first, then deletions (if the source
    /// archive still exists), then metadata, then the end marker.
    public mutating func beginFinalPhase(at now: MonotonicInstant) {
        guard phase == .live else { return }
        phase = .final
        // Failures retried while live now count towards the final attempt limit.
        for i in records.indices where records[i].lease == nil {
            enqueue(i, now: now)
        }
    }

    /// Files whose destination copy should be re-checked: every file the destination
    /// holds at the source's current version.
    /// `id` names the file to `recordVerification(id:matches:at:)` without a lookup.
    public func filesToVerify() -> [(path: RelativePath, record: DestinationRecord, id: Int)] {
        records.indices.compactMap { i in
            let r = records[i]
            guard case .holds(let d) = r.destination else { return nil }
            switch r.source {
            case .present(let version), .removed(let version):
                return d.version == version ? (r.path, d, i) : nil
            case .absent, .unknown:
                return nil
            }
        }
    }

    /// The result of re-checking one destination file. A file that no longer matches
    /// (replaced, truncated, removed) is copied again.
    public mutating func recordVerification(_ path: RelativePath, matches: Bool, at now: MonotonicInstant) {
        guard let i = indexByPath.find(path, in: records) else { return }
        recordVerification(id: i, matches: matches, at: now)
    }

    /// The same, for a file `filesToVerify` named by `id` (records are never removed, so
    /// the number still names it).
    public mutating func recordVerification(id i: Int, matches: Bool, at now: MonotonicInstant) {
        guard records.indices.contains(i), records[i].lease == nil else { return }
        // The flag alone counts for nothing and queues nothing: set it in place, as the
        // end sets it for every file of the archive.
        if matches {
            records[i].verified = true
            return
        }
        // Whatever that node holds is not the copy: gone, wrong, or out of reach.
        let held: Bool
        if case .holds(let d) = records[i].destination {
            displace(records[i].path, d)
            held = true
        } else {
            held = false
        }
        update(i, now: now) { r in
            r.destination = .absent
            r.verified = false
            if held { r.copyLost = true }
        }
    }

    /// The completeness verdict for this archive, from what the tracker knows after the
    /// final rescan and verification. `leftovers` are writer temp files the final scan found.
    /// `unreadable` are source folders the final rescan could not list (their files are
    /// unknown, so the copy cannot be called complete); `skipped` are symbolic links left
    /// out as `symlinks: skip` asks; `notCopied` are what is at the source and cannot be
    /// copied (a link outside the archive or in a loop, a special file), with why.
    public func verdict(
        leftovers: [RelativePath], hierarchy: ZarrHierarchy,
        unreadable: [RelativePath: String] = [:], skipped: [RelativePath] = [], notCopied: [RelativePath: String] = [:]
    ) -> ArchiveVerdict {
        var verdict = ArchiveVerdict()
        verdict.leftovers = leftovers.sorted()
        verdict.skipped = skipped.sorted()
        for (directory, message) in unreadable {
            verdict.problems.append(.init(path: directory, kind: .failed("cannot list this source folder: \(message)")))
        }
        for (path, message) in notCopied {
            verdict.problems.append(.init(path: path, kind: .failed("not copied: \(message)")))
        }
        verdict.maximumChunkFiles = hierarchy.maximumChunkFiles
        verdict.arrays = hierarchy.arrays.count
        verdict.groups = hierarchy.groupCount
        verdict.sourceRootPresent = sourceRootPresent
        var locator = ZarrHierarchy.Locator(hierarchy)
        // The last holder's array is shared by the files that follow on the same node,
        // not allocated again for each of them.
        var holders: [NodeID] = []
        for r in records {
            switch r.source {
            case .removed(let version):
                if case .holds(let d) = r.destination, d.version == version, r.verified {
                    if holders.first != d.holder { holders = [d.holder] }
                    verdict.verified.append(.init(path: r.path, role: r.role, size: version.size,
                                                  checksum: d.checksum, mtimeNanoseconds: version.mtimeNanoseconds, holders: holders))
                    verdict.verifiedBytes &+= version.size
                    verdict.removedFromSource += 1
                } else {
                    verdict.problems.append(.init(path: r.path, kind: .failed(Self.removedCopyLost)))
                }
            case .present(let version):
                let failure = r.failure.flatMap { $0.seq == r.seq ? $0.message : nil }
                switch r.destination {
                case .holds(let d) where d.version == version:
                    if r.verified {
                        if holders.first != d.holder { holders = [d.holder] }
                        verdict.verified.append(.init(path: r.path, role: r.role, size: version.size,
                                                      checksum: d.checksum, mtimeNanoseconds: version.mtimeNanoseconds, holders: holders))
                        verdict.verifiedBytes &+= version.size
                        if r.role == .data, case .chunk(inBounds: false)? = locator.locate(r.path)?.key {
                            verdict.outOfBounds.append(r.path)
                        }
                    } else {
                        verdict.problems.append(.init(path: r.path, kind: .unverified))
                    }
                case .holds:
                    verdict.problems.append(.init(path: r.path, kind: failure.map { .failed($0) } ?? .stale))
                case .absent, .foreign:
                    verdict.problems.append(.init(path: r.path, kind: failure.map { .failed($0) } ?? .missing))
                }
            case .absent, .unknown:
                switch r.destination {
                case .holds:
                    if let f = r.failure, f.seq == r.seq {
                        verdict.problems.append(.init(path: r.path, kind: .failed("deleting: " + f.message)))
                    } else {
                        verdict.keptDeletions.append(r.path)
                    }
                case .foreign:
                    verdict.extraneous.append(r.path)
                case .absent:
                    break
                }
            }
        }
        if !sourceRootPresent {
            verdict.problems.append(.init(path: .root, kind: .sourceVanished))
        }
        verdict.foundByFinalScan = statistics.foundByFinalScan
        verdict.problems.sort { $0.path < $1.path }
        verdict.keptDeletions.sort()
        verdict.extraneous.sort()
        verdict.outOfBounds.sort()
        verdict.verified = Self.sortedByPath(verdict.verified)
        return verdict
    }

    static let removedCopyLost = "removed from the source after its copy was verified, and the destination no longer holds that copy"

    /// Files in the order of their paths (`RelativePath`'s `<`: byte order), for a million
    /// of them: most comparisons are decided by the first 16 bytes of two paths as two
    /// big-endian integers, which is the same order, without touching the strings.
    static func sortedByPath(_ files: [ArchiveVerdict.VerifiedFile]) -> [ArchiveVerdict.VerifiedFile] {
        struct Key {
            var high: UInt64 = 0, low: UInt64 = 0
            var index: Int
        }
        var keys = files.indices.map { i in
            var key = Key(index: i)
            // Paths hold no NUL, so padding with zeros keeps a prefix before its extensions.
            for (n, byte) in files[i].path.string.utf8.prefix(16).enumerated() {
                if n < 8 { key.high |= UInt64(byte) << (8 * (7 - n)) } else { key.low |= UInt64(byte) << (8 * (15 - n)) }
            }
            return key
        }
        keys.sort { a, b in
            if a.high != b.high || a.low != b.low { return (a.high, a.low) < (b.high, b.low) }
            return files[a.index].path < files[b.index].path
        }
        return keys.map { files[$0.index] }
    }

    /// Everything node `holder` holds that softcopy wrote: for the coordinator's own
    /// destination (0), the journal after compaction.
    public func destinationRecords(heldBy holder: NodeID) -> [(RelativePath, DestinationRecord)] {
        records.compactMap { r in
            if case .holds(let d) = r.destination, d.holder == holder { return (r.path, d) }
            return nil
        }.sorted { $0.0 < $1.0 }
    }

    /// Whether `lease` is the current lease of `path` (a stale one must not be served),
    /// and whether its read must be checked stable (in-place writers).
    public func leaseIsCurrent(_ path: RelativePath, _ lease: LeaseID) -> (current: Bool, requireStableRead: Bool) {
        guard let i = indexByPath.find(path, in: records), records[i].lease?.id == lease else { return (false, false) }
        return (true, inPlaceActive)
    }

    /// What softcopy knows the destination holds at `path`.
    public func destinationRecord(of path: RelativePath) -> DestinationRecord? {
        guard let i = indexByPath.find(path, in: records), case .holds(let d) = records[i].destination else { return nil }
        return d
    }

    /// The version the source holds at `path`, as last observed.
    public func sourceVersion(of path: RelativePath) -> FileVersion? {
        guard let i = indexByPath.find(path, in: records), case .present(let v) = records[i].source else { return nil }
        return v
    }

    /// Whether softcopy removed `path` from the source (this run or an earlier one).
    public func isRemovedFromSource(_ path: RelativePath) -> Bool {
        guard let i = indexByPath.find(path, in: records), case .removed = records[i].source else { return false }
        return true
    }

    /// A snapshot for the progress line and status documents.
    public func progress(now: MonotonicInstant) -> ArchiveProgress {
        ArchiveProgress(
            phase: phase,
            counters: counters,
            statistics: statistics,
            inPlaceActive: inPlaceActive,
            sinceLastSourceChange: statistics.lastSourceChange.map { now - $0 })
    }
}

public struct ArchiveProgress: Sendable, Hashable {
    public var phase: ArchiveTracker.Phase
    public var counters: TrackerCounters
    public var statistics: TrackerStatistics
    public var inPlaceActive: Bool
    public var sinceLastSourceChange: Duration?
}
