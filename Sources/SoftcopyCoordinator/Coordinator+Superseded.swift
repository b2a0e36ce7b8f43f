import Logging
import SoftcopyCore
import SoftcopyHTTP
import SoftcopyIO

extension Coordinator {
    /// Removes the copies of keys that the local destination (node 0) holds while the
    /// record names another node for them (an agent took over a key this node held), and
    /// journals each removal.
    func removeLocalSupersededCopies() {
        for runtime in runtimes {
            guard let destination = runtime.destination else { continue }
            let paths = engine.takeRemovals(runtime.index, node: 0, limit: 10_000)
            guard !paths.isEmpty else { continue }
            var removed: [RelativePath] = [], kept: [RelativePath] = []
            var folders: Set<RelativePath> = []
            for path in paths {
                do {
                    if try destination.remove(path, syncDirectory: false) { folders.insert(path.parent ?? .root) }
                    removed.append(path)
                } catch {
                    logger.warning("cannot remove the superseded copy \(destination.displayPath(path)): \(error)")
                    kept.append(path)
                }
            }
            for folder in folders {
                do {
                    try destination.syncDirectory(folder)
                } catch {
                    // Not durably gone: try again next time.
                    kept += removed.filter { $0.parent ?? .root == folder }
                    removed.removeAll { $0.parent ?? .root == folder }
                }
            }
            try? runtime.journal?.append(removed.map { .deleted($0) })
            engine.finishRemovals(runtime.index, node: 0, removed: removed, kept: kept)
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
            return Manifest.SupersededCopies(node: node == 0 ? Clock.hostName() : member?.name ?? member?.url ?? "node \(node)",
                                             reachable: node == 0 || member?.state == .attached, paths: paths)
        }
    }
}
