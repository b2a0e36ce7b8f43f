import Logging
import SoftcopyCore
import SoftcopyIO

extension Coordinator {
    /// A placement problem must last this long before it is reported (agents take a
    /// moment to attach at the start, and a restarting agent comes back).
    static let placementGrace: Duration = .seconds(10)
    /// The sources' first scan and the agents' attach are done by then (or well under way).
    static let capacityCheckAfter: Duration = .seconds(3)

    /// Warns, once near the start, when what the sources hold (times the copies) will
    /// not fit in what the nodes have free above their reserves.
    func checkCapacity() {
        let nodes = engine.placementNodes().filter(\.attached)
        guard !nodes.isEmpty, nodes.allSatisfy({ $0.freeBytes != nil }) else { return }
        let reserve = runtimes.first.map { configuration.placement(for: $0.spec).reserve } ?? 0
        let room = nodes.reduce(UInt64(0)) { sum, n in
            let free = n.freeBytes ?? 0
            return sum &+ (free > reserve ? free - reserve : 0)
        }
        let needed = runtimes.reduce(UInt64(0)) { $0 &+ engine.bytesToPlace($1.index) }
        guard needed > room else { return }
        let list = nodes.map { "\($0.name) \(Quantity.formatBytes($0.freeBytes ?? 0))" }.joined(separator: ", ")
        logger.warning("the sources hold \(Quantity.formatBytes(needed)) still to copy (counting every copy), but the agents have only \(Quantity.formatBytes(room)) free above their reserves (\(list)); the run stops when they are full unless space is freed or agents are added")
    }

    /// Reports a placement policy that cannot be met (too few agents for the replicas, no
    /// agent with room), once per problem; with `when_unsatisfiable: stop` (the default
    /// when no node has room), the status to end the run with.
    func checkPlacement(now: MonotonicInstant) -> ExitStatus? {
        guard remote != nil else { return nil }
        if !isRemote { updateLocalFreeBytes() }
        if !capacityChecked, let started = runtimes.first?.started, now - started >= Self.capacityCheckAfter {
            capacityChecked = true
            checkCapacity()
        }
        for runtime in runtimes where !runtime.isDone {
            let placement = engine.placement(of: runtime.index)
            guard let problem = engine.placementProblem(runtime.index) else {
                if let p = runtime.placementProblem, p.reported {
                    logger.notice("\(runtime.spec.source): placement \(placement.description) can be met again")
                }
                runtime.placementProblem = nil
                continue
            }
            if runtime.placementProblem?.message != problem.message {
                runtime.placementProblem = (now, problem.message, false)
            }
            guard let p = runtime.placementProblem, !p.reported, now - p.since >= Self.placementGrace else { continue }
            runtime.placementProblem?.reported = true
            // Waiting for space that nobody is freeing helps no one: with no room anywhere
            // the run stops unless the operator asked it to wait.
            let action = configuration.settings.whenUnsatisfiable ?? (problem.kind == .noRoom ? .stop : .wait)
            let needed = engine.bytesToPlace(runtime.index)
            let still = needed > 0 ? "; \(Quantity.formatBytes(needed)) still to place" : ""
            switch action {
            case .wait:
                logger.warning("\(runtime.spec.source): placement \(placement.description) cannot be met: \(problem)\(still); waiting for agents or space (when_unsatisfiable: wait)")
            case .stop:
                logger.error("\(runtime.spec.source): placement \(placement.description) cannot be met: \(problem)\(still); stopping (when_unsatisfiable: stop). What was copied is durable; run again to resume")
                return .incomplete
            }
        }
        return nil
    }
}
