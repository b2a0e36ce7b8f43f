import Synchronization

/// Room promised to files the agent is receiving, across its transfer threads and jobs.
/// statfs sees a file only as its bytes are written, so threads that each checked the
/// free space alone could together fill the disk past the reserve by a batch apiece.
public final class SpaceReservations: Sendable {
    private let promised = Mutex<UInt64>(0)

    public init() {}

    /// Takes the free space (`measure`, statfs) and promises each of `sizes` in turn
    /// while it still fits above `reserve` with everything promised before, all under one
    /// lock: a free space read before another thread's file was written and released
    /// would count that file's room twice. The free space, and for each size nil if it
    /// was promised or else what had been promised when it was refused.
    public func claim(_ sizes: [UInt64], reserve: UInt64, measure: () -> UInt64) -> (free: UInt64, refused: [UInt64?]) {
        promised.withLock { promised in
            let free = measure()
            let refused = sizes.map { size -> UInt64? in
                guard free >= reserve, free - reserve >= promised, free - reserve - promised >= size else { return promised }
                promised += size
                return nil
            }
            return (free, refused)
        }
    }

    /// The bytes are written (or will not be): statfs counts them from here on.
    public func release(_ size: UInt64) {
        promised.withLock { $0 -= min($0, size) }
    }

    public var outstanding: UInt64 { promised.withLock { $0 } }
}
