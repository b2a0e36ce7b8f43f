import Logging
import Synchronization
import SoftcopyCore
import SoftcopyHTTP
import SoftcopyIO

extension AgentFleet {
    /// Removes from agent `id` the copies of keys its record does not name (older
    /// versions left when work moved away from it, duplicates, files written for leases
    /// taken back), at most `RemovalRequest.maximumItems` per request and 100 requests per
    /// call. Returns how many were removed and how many are still there.
    @discardableResult
    func removeSuperseded(from id: NodeID, url: String, client: HTTPClient) -> (removed: Int, kept: Int) {
        var removed = 0, kept = 0
        for (n, spec) in context.targets.enumerated() {
            let target = TargetIndex(n)
            for _ in 0..<100 {
                let paths = engine.takeRemovals(target, node: id, limit: RemovalRequest.maximumItems)
                if paths.isEmpty { break }
                let request = RemovalRequest(destination: spec.agentDestination, job: context.job, items: paths.map { .init(path: $0) })
                let report: RemovalReport
                do {
                    let response = try client.request(.remove, at: url, json: request.json, timeout: .seconds(300))
                    guard response.status == 200 else { throw ProtocolError("\(response.status) \(response.bodyText)") }
                    report = try RemovalReport(body: response.body)
                } catch {
                    engine.finishRemovals(target, node: id, removed: [], kept: paths)
                    logger.warning("agent \(url): cannot remove \(paths.count) superseded copies under \(spec.agentDestination): \(error)")
                    kept += paths.count
                    break
                }
                let gone = report.removed + report.absent
                engine.finishRemovals(target, node: id, removed: gone, kept: report.kept.map(\.path))
                removed += report.removed.count
                kept += report.kept.count
                if let first = report.kept.first {
                    logger.warning("agent \(url) kept \(report.kept.count) superseded copies under \(spec.agentDestination) (first: \(first.path): \(first.reason))")
                    break
                }
            }
        }
        if removed > 0 {
            logger.info("removed \(removed) superseded cop\(removed == 1 ? "y" : "ies") from agent \(label(of: id)) (keys whose current copy is on another node)")
        }
        return (removed, kept)
    }
}
