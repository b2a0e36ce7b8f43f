extension ArchiveTracker {
    /// Applies the outcome of a leased work item. Returns false for a stale lease (one
    /// that expired or was released), whose outcome is ignored.
    @discardableResult
    public mutating func complete(
        _ path: RelativePath, lease: LeaseID, outcome: WorkOutcome, at now: MonotonicInstant
    ) -> Bool {
        guard let i = indexByPath.find(path, in: records), let held = records[i].lease, held.id == lease else { return false }
        var notice: TrackerNotice?
        var sawInPlace = false
        let finalAttempts = configuration.finalAttempts
        let retryBase = configuration.retryBase
        let isFinal = phase == .final
        let retryDeadline = configuration.retryDeadline
        let finalWindow = configuration.finalWindow
        switch outcome {
        case .copied, .unchanged, .deleted:
            // The key moves to this consumer (or is deleted by it, its holder being away):
            // a copy on the node that held it is superseded.
            if case .holds(let d) = records[i].destination, d.holder != held.consumer { displace(path, d) }
        default:
            break
        }
        update(i, now: now) { r in
            r.lease = nil
            let unchangedSinceLease = r.seq == held.seq
            switch outcome {
            case .copied(let version, let checksum, let inode, _), .unchanged(let version, let checksum, let inode):
                r.destination = .holds(DestinationRecord(version: version, checksum: checksum, inode: inode, holder: held.consumer))
                r.copyLost = false
                r.verified = false
                r.attempts = 0
                r.failure = nil
                // No event since the lease: what was read is the newest version known.
                if unchangedSinceLease { r.source = .present(version) }
            case .sourceVanished:
                if unchangedSinceLease, r.source != .absent {
                    r.source = .absent
                    r.seq &+= 1
                }
            case .changedWhileReading:
                r.lastChange = now
                r.retryAt = now + retryBase
                sawInPlace = true
            case .deleted:
                r.destination = .absent
                r.copyLost = false
                r.verified = false
                r.failure = nil
                r.attempts = 0
            case .failed(let message, let transient):
                r.attempts &+= 1
                let attempts = Int(r.attempts)
                let since = r.failure.flatMap { $0.seq == r.seq ? $0.since : nil } ?? now
                let pastDeadline = retryDeadline.map { now - since >= $0 } ?? false
                if !transient || (isFinal && attempts >= finalAttempts && now - since >= finalWindow) || pastDeadline {
                    let cause = transient
                        ? "\(message) (gave up after \(attempts) attempts in \(Quantity.formatDuration(now - since)))" : message
                    r.failure = Failure(message: cause, seq: r.seq, permanent: true, since: since)
                    notice = .permanentFailure(r.path, cause)
                } else {
                    r.failure = Failure(message: message, seq: r.seq, permanent: false, since: since)
                    notice = .retrying(r.path, message, attempt: attempts)
                }
            }
        }
        switch outcome {
        case .copied(_, _, _, let bytes):
            statistics.copiedFiles += 1
            statistics.copiedBytes &+= bytes
            statistics.lastDestinationWrite = now
        case .unchanged:
            statistics.unchanged += 1
        case .deleted:
            statistics.deletedFiles += 1
            statistics.lastDestinationWrite = now
        case .changedWhileReading:
            statistics.changedWhileReading += 1
        case .failed(_, let transient):
            if transient, records[i].failure?.permanent == false {
                statistics.retries += 1
                let delay = backoff(for: path, attempt: Int(records[i].attempts))
                update(i, now: now) { $0.retryAt = now + delay }
            }
        case .sourceVanished:
            break
        }
        if let notice { notices.append(notice) }
        if sawInPlace {
            // A file that changed while it was read is being written in place.
            detectInPlaceWriting(path, now: now)
        }
        return true
    }
}
