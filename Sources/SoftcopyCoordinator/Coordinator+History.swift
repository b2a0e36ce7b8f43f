import Logging
import SoftcopyCore
import SoftcopyIO

/// The job history (`JobHistory`): a row per archive when its copy starts, completed with
/// the end summary (the one `notify:` sends) when it ends. A history that cannot be
/// written is logged; the copy goes on.
extension CoordinatorRun {
    func recordStarts() {
        guard let history = controls.history else { return }
        for runtime in runtimes {
            let destination = isRemote ? "\(runtime.spec.agentDestination) on the agents" : runtime.spec.destination
            do {
                runtime.historyRow = try history.begin(job: job, source: runtime.spec.source, destination: destination,
                                                       watchFolder: controls.watchFolder, watchDate: controls.watchDate)
            } catch {
                logger.warning("cannot record the start of \(runtime.spec.source) in the history \(history.path): \(error)")
            }
        }
    }

    /// Tells whom `notify:` names, and completes the archive's history row.
    func reportEnd(_ runtime: TargetRuntime, _ summary: JSONValue) {
        recordEnd(runtime, summary)
        notify(runtime, summary)
    }

    /// Completes the archive's history row.
    func recordEnd(_ runtime: TargetRuntime, _ summary: JSONValue) {
        if let history = controls.history, let row = runtime.historyRow {
            let agents = remote?.fleet.snapshot.filter { $0.filesAcked > 0 || $0.state == .attached }.map { $0.name ?? $0.url } ?? []
            // A watched archive's fingerprint tells the service later whether it changed since.
            let fingerprint = controls.watchFolder == nil ? nil : ArchiveFinder.fingerprint(of: runtime.spec.source)?.description
            do {
                try history.end(row: row, summary: summary, agents: agents, fingerprint: fingerprint)
            } catch {
                logger.warning("cannot record the end of \(runtime.spec.source) in the history \(history.path): \(error)")
            }
        }
    }
}
