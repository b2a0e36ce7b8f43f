import SoftcopyCore
import Synchronization

/// What this agent stored in an object store, by object name: the object's ETag and the
/// source version and checksum it was written from. A listing (`ListObjectsV2`, which
/// carries no user metadata) takes an object's record from here while its ETag is the
/// remembered one, and asks the object's metadata (`HEAD`) otherwise: one request per
/// object only for what this process did not write.
final class ObjectRecords: Sendable {
    private let entries = Mutex<[String: (etag: String, record: WrittenRecord)]>([:])

    func remember(_ name: String, etag: String, _ record: WrittenRecord) {
        entries.withLock { $0[name] = (etag, record) }
    }

    func forget(_ name: String) {
        entries.withLock { _ = $0.removeValue(forKey: name) }
    }

    /// The record of `name` if its ETag is still `etag`.
    func record(_ name: String, etag: String) -> WrittenRecord? {
        entries.withLock { $0[name].flatMap { $0.etag == etag ? $0.record : nil } }
    }

    /// The metadata names an object's record is kept under (`x-amz-meta-…`).
    static let versionMetadata = "softcopy-version"
    static let checksumMetadata = "softcopy-xxh3"

    /// The record in an object's metadata, if it has a valid one.
    static func record(metadata: [String: String]) -> WrittenRecord? {
        guard let version = metadata[versionMetadata].flatMap({ FileVersion(token: $0) }),
              let checksum = metadata[checksumMetadata].flatMap({ Checksum(hex: $0) }) else { return nil }
        return WrittenRecord(version: version, checksum: checksum)
    }
}
