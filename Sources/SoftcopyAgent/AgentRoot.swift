import Synchronization
import SoftcopyCore
import SoftcopyIO

/// The agent's data root: the folder it holds open, and whether its path still leads
/// there. The agent writes beneath the descriptor it opened (nothing can send a write
/// outside it), so when the path comes to lead elsewhere (a NAS mounted on it after the
/// agent started, the folder removed and made again) it would keep writing where nobody
/// looks while listings and `df` show the new folder. `check` notices that by device and
/// inode, reopens the root, and says so, so the jobs under the old one end and are
/// attached again where the files now go. With `requireMount`, the agent writes only
/// while the root is a mount point: storage that is not mounted yet takes nothing.
final class AgentRoot: Sendable {
    let path: String
    let requireMount: Bool
    private let state: Mutex<State>

    private struct State {
        var tree: DestinationTree?
        /// Why nothing may be written now, if so.
        var problem: String?
        /// Times the root was found replaced and opened again.
        var reopened = 0
        var lastReopen: String?
    }

    enum Change {
        case unchanged
        /// The path leads to another folder now: it was opened, and jobs under the old
        /// one must end.
        case reopened(String)
    }

    init(path: String, requireMount: Bool) throws(SystemError) {
        self.path = path
        self.requireMount = requireMount
        let tree = try DestinationTree(root: path, create: false)
        state = Mutex(State(tree: tree, problem: Self.mountProblem(tree, path: path, required: requireMount)))
    }

    /// The tree to write under, or why there is none now.
    func current() -> Result<DestinationTree, RootProblem> {
        state.withLock { s in
            if let problem = s.problem { return .failure(RootProblem(message: problem)) }
            guard let tree = s.tree else { return .failure(RootProblem(message: "the data root \(path) is not open")) }
            return .success(tree)
        }
    }

    struct RootProblem: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    /// What health reports.
    var report: (problem: String?, reopened: Int, lastReopen: String?) {
        state.withLock { ($0.problem, $0.reopened, $0.lastReopen) }
    }

    /// Compares the folder held open with the one the path leads to now.
    func check() -> Change {
        let now = try? FileStatus.of(path, followingLinks: true)
        return state.withLock { s -> Change in
            guard let now, now.kind == .directory else {
                s.problem = "the data root \(path) does not exist (removed, or its filesystem not mounted?)"
                s.tree = nil
                return .unchanged
            }
            if let tree = s.tree, tree.isFolder(now) {
                s.problem = Self.mountProblem(tree, path: path, required: requireMount)
                return .unchanged
            }
            let fresh: DestinationTree
            do {
                fresh = try DestinationTree(root: path, create: false)
            } catch {
                s.problem = "cannot open the data root \(path): \(error)"
                s.tree = nil
                return .unchanged
            }
            let hadOne = s.tree != nil
            s.tree = fresh
            s.problem = Self.mountProblem(fresh, path: path, required: requireMount)
            guard hadOne else { return .unchanged }
            s.reopened += 1
            s.lastReopen = Clock.wallTimestamp()
            return .reopened("the data root \(path) now leads to another folder (device \(now.device), inode \(now.version.inode)): a filesystem was mounted on it or taken off, or it was removed and made again; writing to the new one from now on")
        }
    }

    private static func mountProblem(_ tree: DestinationTree, path: String, required: Bool) -> String? {
        guard required, tree.isMountPoint != true else { return nil }
        return "the data root \(path) is not a mount point (--require-mount): its storage is not mounted, so nothing is written there"
    }
}
