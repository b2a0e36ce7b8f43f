import Synchronization

/// The bytes of the objects under a bucket agent's prefix, for its quota: counted once
/// by listing the prefix, then kept current with each upload (its size, less the size of
/// the object it replaced) and each deletion. Uploads and deletions made while the count
/// runs may be counted twice or missed by the listing; a double count only errs towards
/// reporting less room, and the next count (each agent start) starts afresh.
final class BucketUsage: Sendable {
    let quota: UInt64
    private let state = Mutex<(counted: UInt64?, changes: Int64)>((nil, 0))

    init(quota: UInt64) {
        self.quota = quota
    }

    /// The stored bytes, once counted.
    var stored: UInt64? {
        state.withLock { s in s.counted.map { UInt64(max(0, Int64(clamping: $0) &+ s.changes)) } }
    }

    /// Room left under the quota; nil until the prefix has been counted (the agent then
    /// reports its room as unknown, and refuses nothing for the quota).
    var room: UInt64? {
        stored.map { $0 < quota ? quota - $0 : 0 }
    }

    /// A count begins: changes from now on are on top of what it will find.
    func countBegins() {
        state.withLock { $0.changes = 0 }
    }

    func counted(_ bytes: UInt64) {
        state.withLock { $0.counted = bytes }
    }

    /// An object of `size` bytes stored over one of `replaced` bytes (nil: a new key).
    func stored(_ size: UInt64, replacing replaced: UInt64?) {
        state.withLock { $0.changes &+= Int64(clamping: size) &- Int64(clamping: replaced ?? 0) }
    }

    func removed(_ size: UInt64) {
        state.withLock { $0.changes &-= Int64(clamping: size) }
    }
}
