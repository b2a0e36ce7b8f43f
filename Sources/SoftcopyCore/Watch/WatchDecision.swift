/// Whether an archive found in a watched folder gets a job now: the service's rule,
/// pure (the caller gathers what it knows of the archive).
///
/// - An archive with a job running gets no other.
/// - One never copied (no history) gets a job.
/// - One whose last copy was verified gets a job only if it changed since (its
///   fingerprint at that end differs from now's): a verified archive is not copied again
///   at each restart.
/// - One whose last copy did not verify (incomplete, interrupted) gets a job at the
///   service's start, and later when it changes: retried, never given up on, and never
///   retried in a loop while nothing changes.
/// - One whose last job was refused before it began (a destination that holds another
///   archive's copy, one that cannot be made) waits for the service's next start or
///   reload: its writer's changes cannot fix that, and each try would tell `notify:`.
public enum WatchDecision: Sendable, Equatable {
    case start
    case wait

    public struct LastEnd: Sendable, Equatable {
        public var verified: Bool
        /// Refused before the copy began (exit 2).
        public var refused: Bool
        /// The archive's fingerprint when that job ended (nil: unknown, e.g. a crash).
        public var fingerprint: String?
        /// The job ended in this process (else it comes from the history of an earlier one).
        public var inThisProcess: Bool

        public init(verified: Bool, refused: Bool = false, fingerprint: String?, inThisProcess: Bool) {
            self.verified = verified
            self.refused = refused
            self.fingerprint = fingerprint
            self.inThisProcess = inThisProcess
        }
    }

    /// `fingerprint` is the archive's now (nil when it could not be read).
    public static func decide(running: Bool, lastEnd: LastEnd?, fingerprint: String?) -> WatchDecision {
        if running { return .wait }
        guard let lastEnd else { return .start }
        let changed = fingerprint != nil && lastEnd.fingerprint != fingerprint
        if lastEnd.verified { return changed ? .start : .wait }
        if !lastEnd.inThisProcess { return .start }
        if lastEnd.refused { return .wait }
        return changed ? .start : .wait
    }
}
