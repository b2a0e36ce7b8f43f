import SoftcopyCore
import Synchronization

/// The read view's indexed manifests, by destination, each kept while the manifest file
/// is the one it was read from (same inode, size and mtime: the coordinator replaces it
/// whole). A few archives at a time: a million-file manifest's index is about 150 MB.
final class ManifestCache: Sendable {
    struct Identity: Sendable, Equatable {
        var inode: UInt64
        var size: UInt64
        var mtime: Int64
    }

    private let entries = Mutex<[RelativePath: (Identity, ManifestIndex)]>([:])
    static let capacity = 4

    func index(_ destination: RelativePath, identity: Identity) -> ManifestIndex? {
        entries.withLock { e in e[destination].flatMap { $0.0 == identity ? $0.1 : nil } }
    }

    func store(_ destination: RelativePath, identity: Identity, _ index: ManifestIndex) {
        entries.withLock { e in
            if e[destination] == nil, e.count >= Self.capacity, let oldest = e.keys.first { e[oldest] = nil }
            e[destination] = (identity, index)
        }
    }
}
