import Synchronization
import SoftcopyCore
import SoftcopyIO

/// The SHA-256 and MD5 of each file as the coordinator read it from the source to copy it
/// (`checksums:`), for the `sha256sums` and `md5sums` lists at the end. Each is computed in
/// the same pass as the file's XXH3-128 and kept with it: a list names a file's digest
/// only when that XXH3-128 is the one the copy was verified with, so a digest of a version
/// that was read and then replaced never stands for the copy.
final class ContentDigests: Sendable {
    /// The extra algorithms, without XXH3-128.
    let algorithms: [ChecksumAlgorithm]
    private let entries = Mutex<[String: [RelativePath: Entry]]>([:])

    struct Entry: Sendable {
        var checksum: Checksum
        var hex: [String]
    }

    init?(_ algorithms: Set<ChecksumAlgorithm>) {
        let extra = algorithms.subtracting([.xxh128]).sorted()
        guard !extra.isEmpty else { return nil }
        self.algorithms = extra
    }

    /// Fresh hashers for one file, in `algorithms`' order.
    func hashers() -> [DigestHasher] {
        algorithms.compactMap(DigestHasher.init)
    }

    /// Keeps the digests `hashers` computed over the bytes whose XXH3-128 is `checksum`.
    func record(root: String, path: RelativePath, checksum: Checksum, _ hashers: [DigestHasher]) {
        let entry = Entry(checksum: checksum, hex: hashers.map { $0.finish() })
        entries.withLock { $0[root, default: [:]][path] = entry }
    }

    /// The hex digest of `algorithm` for the bytes of `path` whose XXH3-128 is `checksum`.
    func hex(root: String, path: RelativePath, checksum: Checksum, _ algorithm: ChecksumAlgorithm) -> String? {
        guard let n = algorithms.firstIndex(of: algorithm) else { return nil }
        return entries.withLock { $0[root]?[path] }.flatMap { $0.checksum == checksum ? $0.hex[n] : nil }
    }

    /// Digests for files no read of this run covered (copied by an earlier run): read
    /// from `read`'s descriptor once more, checked against the XXH3-128 in the same pass.
    func compute(root: String, path: RelativePath, checksum: Checksum, open: () throws(SystemError) -> FileDescriptor?, buffer: UnsafeMutableRawBufferPointer) -> Bool {
        let hashers = hashers()
        guard let file = try? open(),
              let (sum, _) = try? file.checksum(buffer: buffer, also: hashers), sum == checksum else { return false }
        record(root: root, path: path, checksum: checksum, hashers)
        return true
    }
}
