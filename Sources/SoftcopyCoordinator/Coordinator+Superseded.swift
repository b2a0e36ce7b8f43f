import Logging
import SoftcopyCore
import SoftcopyHTTP
import SoftcopyIO

extension CoordinatorRun {
    /// Removes the copies of keys that the local destination (node 0) holds while the
    /// record names another node for them (an agent took over a key this node held), and
    /// journals each removal.
    func removeLocalSupersededCopies() {
        for runtime in runtimes {
            guard let destination = runtime.destination else { continue }
            let paths = engine.takeRemovals(runtime.index, node: .local, limit: 10_000)
            guard !paths.isEmpty else { continue }
            var unlinked: [RelativePath] = [], absent: [RelativePath] = [], kept: [RelativePath] = []
            for path in paths {
                do {
                    if try destination.remove(path, syncDirectory: false) { unlinked.append(path) } else { absent.append(path) }
                } catch {
                    logger.warning("cannot remove the superseded copy \(destination.displayPath(path)): \(error)")
                    kept.append(path)
                }
            }
            // Not durably gone where a folder's sync failed: tried again next time.
            let (durable, failed) = destination.syncRemovals(unlinked)
            kept += failed.map(\.0)
            try? runtime.journal?.append(durable.map { .deleted($0) })
            engine.finishRemovals(runtime.index, node: .local, removed: durable + absent, kept: kept)
        }
    }

    /// At the end: every reachable node gives up its superseded copies of this archive's
    /// keys, so each key ends on as many nodes as `replicas` asks. What is left (on nodes
    /// that are away, or that could not remove a file) is returned, to be reported.
    func removeSupersededCopies(_ runtime: TargetRuntime) -> [Manifest.SupersededCopies] {
        if runtime.destination != nil { removeLocalSupersededCopies() }
        guard let remote else { return [] }
        let client = HTTPClient(token: remote.token, caFile: remote.caFile)
        for member in remote.fleet.snapshot where member.state == .attached {
            remote.fleet.removeSuperseded(from: member.id, url: member.url, client: client)
        }
        let members = Dictionary(uniqueKeysWithValues: remote.fleet.snapshot.map { ($0.id, $0) })
        return engine.supersededCopies(runtime.index).map { node, paths in
            let member = members[node]
            return Manifest.SupersededCopies(node: node.isLocal ? Clock.hostName() : member?.name ?? member?.url ?? "node \(node)",
                                             reachable: node.isLocal || member?.state == .attached, paths: paths)
        }
    }
}
