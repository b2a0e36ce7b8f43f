import Logging
import Synchronization
import SoftcopyCore
import SoftcopyIO

extension Engine {
    /// Source events of target `target`, applied to each of its lanes.
    func handle(_ target: TargetIndex, _ events: [SourceEvent]) {
        let index = targetLanes[target.rawValue].lowerBound
        // Metadata is small: read and parse it before taking the lock.
        var parsed: [RelativePath: Result<ZarrNode, ZarrMetadataParser.Error>] = [:]
        for case .observed(let path, .file, _) in events where ZarrNaming.role(of: path) == .metadata {
            do {
                let bytes = try readSmallFile(sourceRoots[index] + "/" + path.string, limit: 64 << 20, links: sourceLinks[index])
                parsed[path] = Result { () throws(ZarrMetadataParser.Error) in try ZarrMetadataParser.parse(name: path.name, bytes: bytes) }
            } catch {
                continue  // gone already; its removal event follows
            }
        }
        var said: (warnings: [String], infos: [String]) = ([], [])
        for lane in targetLanes[target.rawValue] {
            let root = sourceRoots[index]
            let notes = withLaneState(LaneID(lane)) { state in Self.apply(events, parsed: parsed, to: &state, root: root) }
            // Every copy sees the same source: say things once.
            if lane == index { said = notes }
        }
        for info in said.infos { logger.info("\(info)") }
        for warning in said.warnings { logger.warning("\(warning)") }
    }

    /// Applies source events to one lane's tracker and hierarchy; returns what to log.
    private static func apply(
        _ events: [SourceEvent], parsed: [RelativePath: Result<ZarrNode, ZarrMetadataParser.Error>],
        to state: inout TargetState, root: String
    ) -> (warnings: [String], infos: [String]) {
        var warnings: [String] = []
        var infos: [String] = []
        let now = Clock.now()
        for event in events {
            switch event {
            case .observed(let path, let observed, let cause):
                state.tracker.observe(path, observed, cause: cause, at: now)
                if case .failure(let error) = parsed[path] {
                    if state.malformedMetadata[path] != error.message {
                        state.malformedMetadata[path] = error.message
                        warnings.append("malformed zarr metadata \(root)/\(path): \(error.message) (copied as it is)")
                    }
                } else if case .success(let node) = parsed[path] {
                    state.malformedMetadata[path] = nil
                    state.hierarchy.update(metadataFile: path, node: node)
                } else if observed == .absent, ZarrNaming.role(of: path) == .metadata {
                    state.hierarchy.remove(metadataFile: path)
                }
            case .subtreeRemoved(let directory):
                state.tracker.observeSubtreeRemoved(directory, cause: .removed, at: now)
                state.hierarchy.removeSubtree(directory)
            case .fullScanStarted:
                state.scanStarted = now
                state.tracker.beginFullScan()
            case .fullScanFinished(let kind):
                state.tracker.endFullScan(kind, at: now)
                if kind == .initial, let started = state.scanStarted {
                    // On a large archive the first scan is the wait before anything is copied: say what it cost.
                    infos.append("\(root): the first scan found \(state.tracker.trackedPaths) files in \(Quantity.formatDuration(now - started))")
                }
                let tracker = state.tracker
                state.hierarchy.prune { directory in
                    ZarrNaming.nodeMetadataNames.contains { tracker.sourceVersion(of: directory.appending(component: String($0))) != nil }
                }
            case .rootVanished:
                state.tracker.sourceRootVanished(at: now)
                warnings.append("the source \(root) disappeared; nothing will be deleted at the destination while it is gone")
            case .rootRestored:
                state.tracker.sourceRootRestored(at: now)
                infos.append("the source \(root) is back; rescanning")
            case .warning(let message):
                warnings.append(message)
            }
        }
        return (warnings, infos)
    }
}
