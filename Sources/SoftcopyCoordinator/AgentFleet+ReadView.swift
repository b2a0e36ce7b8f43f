import SoftcopyCore
import Synchronization

extension AgentFleet {
    /// A node of the read view's answers: its name and the URL its API is at. The
    /// coordinator's own destination (node 0) has no URL: agents do not read from it.
    func viewHolder(_ id: NodeID) -> ReadViewAnswer.Holder {
        members.withLock { m in m[id].map { ReadViewAnswer.Holder(name: $0.name ?? $0.url, url: $0.url) } }
            ?? ReadViewAnswer.Holder(name: id == .local ? "the coordinator's destination" : "node \(id)", url: "")
    }
}
