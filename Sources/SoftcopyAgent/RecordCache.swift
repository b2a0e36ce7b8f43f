import SoftcopyCore
import SoftcopyIO
import Synchronization

/// The records of files this agent wrote or has listed, remembered with the file's ctime
/// so a listing can skip reading the `user.softcopy` attribute of each. The ctime changes
/// with any write, truncate, chmod, utimes, rename or attribute change, so a file whose
/// device, inode and ctime are the remembered ones still carries the remembered record;
/// anything else is read from the file again. (At the end of a million-file run the
/// coordinator waited 5.5 s for the agent's listing with the reads, 4.6–5.0 s without.)
///
/// Bounded: when `capacity` files are remembered it starts over empty, which only costs
/// the next listing its attribute reads. Sharded so the listing's threads and the
/// transfer threads seldom wait on one another.
package final class RecordCache: Sendable {
    private struct Key: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    private struct Remembered {
        var ctimeNanoseconds: Int64
        var record: WrittenRecord
    }

    /// A class because an array needs copyable elements and a Mutex is not.
    private final class Shard: Sendable {
        let entries = Mutex<[Key: Remembered]>([:])
    }

    private static let shardCount = 16
    private let shards: [Shard]
    private let shardCapacity: Int

    /// `capacity` files at most (about 150 bytes each, measured at a million); 0 remembers nothing.
    package init(capacity: Int) {
        shards = (0..<Self.shardCount).map { _ in Shard() }
        shardCapacity = capacity <= 0 ? 0 : max(1, capacity / Self.shardCount)
    }

    private func shard(_ key: Key) -> Shard {
        shards[Int(truncatingIfNeeded: (key.inode ^ key.device) % UInt64(Self.shardCount))]
    }

    /// The record remembered for the file whose status (taken now) is `status`, if the
    /// file has not changed since.
    func record(for status: FileStatus) -> WrittenRecord? {
        guard shardCapacity > 0 else { return nil }
        let key = Key(device: status.device, inode: status.version.inode)
        guard let remembered = shard(key).entries.withLock({ $0[key] }),
              remembered.ctimeNanoseconds == status.version.ctimeNanoseconds else { return nil }
        return remembered.record
    }

    /// Remembers that the file whose status is `status` carries `record`.
    func remember(_ record: WrittenRecord, for status: FileStatus) {
        guard shardCapacity > 0 else { return }
        let key = Key(device: status.device, inode: status.version.inode)
        let remembered = Remembered(ctimeNanoseconds: status.version.ctimeNanoseconds, record: record)
        shard(key).entries.withLock { entries in
            if entries.count >= shardCapacity, entries[key] == nil { entries.removeAll(keepingCapacity: true) }
            entries[key] = remembered
        }
    }
}
