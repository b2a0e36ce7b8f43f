import Logging
import SoftcopyCore
import SoftcopyIO

extension Coordinator {
    /// A placement problem must last this long before it is reported (agents take a
    /// moment to attach at the start, and a restarting agent comes back).
    static let placementGrace: Duration = .seconds(10)

    /// Reports a placement policy that cannot be met (too few agents for the replicas, no
    /// agent with room), once per problem; with `when_unsatisfiable: stop`, the status
    /// to end the run with.
    func checkPlacement(now: MonotonicInstant) -> ExitStatus? {
        guard remote != nil else { return nil }
        if !isRemote { updateLocalFreeBytes() }
        let action = configuration.settings.whenUnsatisfiable ?? .wait
        for runtime in runtimes where !runtime.isDone {
            let placement = engine.placement(of: runtime.index)
            guard let problem = engine.placementProblem(runtime.index) else {
                if let p = runtime.placementProblem, p.reported {
                    logger.notice("\(runtime.spec.source): placement \(placement.description) can be met again")
                }
                runtime.placementProblem = nil
                continue
            }
            if runtime.placementProblem?.message != problem {
                runtime.placementProblem = (now, problem, false)
            }
            guard let p = runtime.placementProblem, !p.reported, now - p.since >= Self.placementGrace else { continue }
            runtime.placementProblem?.reported = true
            switch action {
            case .wait:
                logger.warning("\(runtime.spec.source): placement \(placement.description) cannot be met: \(problem); waiting for agents or space (when_unsatisfiable: wait)")
            case .stop:
                logger.error("\(runtime.spec.source): placement \(placement.description) cannot be met: \(problem); stopping (when_unsatisfiable: stop). What was copied is durable; run again to resume")
                return .incomplete
            }
        }
        return nil
    }
}
