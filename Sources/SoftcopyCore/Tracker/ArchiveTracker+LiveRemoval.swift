/// Which chunk files `remove_source: live` may remove while the acquisition runs.
///
/// A zarr writer that writes part of a chunk (a frame into a chunk several frames deep, an
/// inner chunk into a shard) reads the chunk, merges, and writes the whole chunk back; a
/// chunk that is gone reads as fill values. So a chunk is removed only once the writer has
/// moved past it: the acquisition writes along the first dimension (time, or z), and a
/// chunk is taken only when a chunk further along that dimension exists in the same array
/// and the chunk itself has not changed for `settle`. A writer that goes back all the same
/// is caught (`observe`: written again after its removal) and both versions are kept.
extension ArchiveTracker {
    public struct LiveRemovalCandidate: Sendable, Hashable {
        public var path: RelativePath
        public var version: FileVersion
        public var checksum: Checksum
        public var holder: NodeID
    }

    public func liveRemovalCandidates(hierarchy: ZarrHierarchy, now: MonotonicInstant, settle: Duration) -> [LiveRemovalCandidate] {
        var locator = ZarrHierarchy.Locator(hierarchy)
        // How far along its first dimension each array's writer has got.
        var frontier: [RelativePath: Int64] = [:]
        var chunks: [(record: Int, array: RelativePath, index: Int64)] = []
        for i in records.indices where records[i].role == .data {
            switch records[i].source {
            case .present, .removed: break
            case .absent, .unknown: continue
            }
            guard let (array, index) = locator.firstIndex(records[i].path) else { continue }
            frontier[array] = max(frontier[array] ?? index, index)
            chunks.append((i, array, index))
        }
        var candidates: [LiveRemovalCandidate] = []
        for (i, array, index) in chunks where index < frontier[array]! {
            let r = records[i]
            guard r.lease == nil, r.failure == nil, now - r.lastChange >= settle,
                  case .present(let version) = r.source, case .holds(let d) = r.destination, d.version == version
            else { continue }
            candidates.append(LiveRemovalCandidate(path: r.path, version: version, checksum: d.checksum, holder: d.holder))
        }
        return candidates
    }
}
