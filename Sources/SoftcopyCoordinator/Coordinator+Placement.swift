import Logging
import SoftcopyCore
import SoftcopyIO

extension CoordinatorRun {
    /// A placement problem must last this long before it is reported (agents take a
    /// moment to attach at the start, and a restarting agent comes back).
    static let placementGrace: Duration = .seconds(10)
    /// The sources' first scan and the agents' attach are done by then (or well under way).
    static let capacityCheckAfter: Duration = .seconds(3)

    /// Compares, once near the start, what the sources still hold to copy (times the
    /// copies) with the room there is for it: on each local destination's filesystem, or
    /// on the agents above their reserves. A finished source (`--once`) that cannot fit
    /// locally stops the run before it fills the disk; otherwise it is a warning.
    func checkCapacity() -> ExitStatus? {
        guard !isRemote else {
            checkAgentCapacity()
            return nil
        }
        var byDevice: [UInt64: (free: UInt64, needed: UInt64, files: Int, paths: [String])] = [:]
        for runtime in runtimes {
            guard let destination = runtime.destination else { continue }
            let (files, bytes) = engine.remaining(runtime.index)
            var entry = byDevice[destination.device] ?? (destination.space().free, 0, 0, [])
            entry.needed &+= bytes
            entry.files += files
            entry.paths.append(destination.rootPath)
            byDevice[destination.device] = entry
        }
        for (_, entry) in byDevice.sorted(by: { $0.key < $1.key }) where entry.needed > entry.free {
            let message = "\(entry.paths.joined(separator: ", ")) has \(Quantity.formatBytes(entry.free)) free, but \(Quantity.formatBytes(entry.needed)) (\(entry.files) files) are still to copy there"
            if configuration.once {
                logger.error("\(message); the copy cannot fit, so nothing more is copied. Free space (or choose another destination) and run again: what was copied is kept, and is not sent again")
                return .incomplete
            }
            logger.warning("\(message); the run stops when the disk is full unless space is freed")
        }
        return nil
    }

    /// The local destination ran out of space, and no agent can take the rest: one
    /// message, and the end of the run.
    func destinationFull(lane: LaneID, _ error: SystemError) -> ExitStatus {
        guard let runtime = runtimes.first(where: { $0.lanes.contains(lane) }), let destination = runtime.destination else {
            logger.error("a destination is full (\(error)); stopping")
            return .incomplete
        }
        let (files, bytes) = engine.remaining(runtime.index)
        logger.error("the destination \(destination.rootPath) is full (\(error.reason)): \(Quantity.formatBytes(destination.space().free)) free, \(Quantity.formatBytes(bytes)) (\(files) files) still to copy; stopping. What was copied is durable and journaled: free space (or choose another destination) and run the same command again to resume")
        return .incomplete
    }

    /// Warns when what the sources hold (times the copies) will not fit in what the
    /// agents have free above their reserves.
    private func checkAgentCapacity() {
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
        // A finished source was scanned before the main loop started: a local copy is
        // checked at once; agents first need a moment to attach and report their space.
        if !capacityChecked, let started = runtimes.first?.started,
           (configuration.once && !isRemote) || now - started >= Self.capacityCheckAfter {
            capacityChecked = true
            if let status = checkCapacity() { return status }
        }
        guard remote != nil else { return nil }
        if !isRemote { updateLocalFreeBytes() }
        for runtime in runtimes where !runtime.isDone {
            let placement = engine.placement(of: runtime.index)
            // A problem matters only while work waits on it.
            let waiting = engine.remaining(runtime.index)
            guard let problem = engine.placementProblem(runtime.index), waiting.files > 0 else {
                if let p = runtime.placementProblem, p.reported {
                    logger.notice("\(runtime.spec.source): placement \(placement.description) can be met again")
                }
                runtime.placementProblem = nil
                continue
            }
            if runtime.placementProblem?.message != problem.message {
                runtime.placementProblem = (now, problem.message, false)
            }
            guard let p = runtime.placementProblem else { continue }
            let lasted = now - p.since
            let still = "\(Quantity.formatBytes(waiting.bytes)) (\(waiting.files) files) still to place"
            let fleet = remote?.fleet
            // Agents that refused the job will refuse it again until someone changes
            // something: a finished source (--once) ends at once, a live one after the grace.
            if problem.kind == .noNode, fleet?.allRefused ?? false, configuration.once || lasted >= Self.placementGrace {
                logger.error("\(runtime.spec.source): no agent will take the work: \(fleet?.whyNoAgent() ?? ""); \(still). Stopping; fix that and run again to resume")
                return .incomplete
            }
            guard lasted >= Self.placementGrace else { continue }
            // Waiting for space that nobody is freeing helps no one: with no room anywhere
            // the run stops unless the operator asked it to wait. Otherwise it waits for
            // agents or space for `retry_deadline`, and without end only if asked to.
            let action = configuration.settings.whenUnsatisfiable
            let deadline = action == .wait ? nil : CoordinatorConfiguration.retryDeadline(configuration.settings.retryDeadline)
            let agents = problem.kind == .noNode ? " (\(fleet?.whyNoAgent() ?? ""))" : ""
            if action == .stop || (action == nil && problem.kind == .noRoom) {
                let why = action == .stop ? "when_unsatisfiable: stop" : "nobody is freeing space; when_unsatisfiable: wait would wait for it"
                logger.error("\(runtime.spec.source): placement \(placement.description) cannot be met: \(problem)\(agents); \(still); stopping (\(why)). What was copied is durable; run again to resume")
                return .incomplete
            }
            if let deadline, lasted >= deadline {
                logger.error("\(runtime.spec.source): placement \(placement.description) could not be met for \(Quantity.formatDuration(lasted)) (retry_deadline): \(problem)\(agents); \(still); stopping. What was copied is durable; run again to resume")
                return .incomplete
            }
            guard !p.reported else { continue }
            runtime.placementProblem?.reported = true
            let until = deadline.map { "for up to \(Quantity.formatDuration($0)) (retry_deadline)" } ?? "without end (when_unsatisfiable: wait)"
            logger.warning("\(runtime.spec.source): placement \(placement.description) cannot be met: \(problem)\(agents); \(still); waiting for agents or space \(until)")
        }
        return nil
    }
}
