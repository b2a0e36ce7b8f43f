import SoftcopyCore
import SoftcopyIO

/// What an agent records on each file it writes, in the `user.softcopy` extended
/// attribute: the source version the bytes came from and their checksum. It is set on
/// the temp file before the rename, so it always describes the bytes under the real name.
/// It is trusted only while the file's size and mtime still are the ones softcopy gave it.
struct WrittenRecord: Sendable, Hashable {
    var version: FileVersion
    var checksum: Checksum

    static let attributeName = "user.softcopy"

    var bytes: [UInt8] {
        Array("softcopy1 \(version.token) \(checksum.hex)".utf8)
    }

    init(version: FileVersion, checksum: Checksum) {
        self.version = version
        self.checksum = checksum
    }

    init?(bytes: [UInt8]) {
        // Read from every file of every listing: bytes, not strings.
        let parsed: WrittenRecord?? = bytes.withUnsafeBufferPointer { all in
            let prefix = "softcopy1 ".utf8
            guard all.count > prefix.count + 33, all.starts(with: prefix) else { return nil }
            let rest = UnsafeBufferPointer(rebasing: all[prefix.count...])
            guard let space = rest.lastIndex(of: UInt8(ascii: " ")),
                  let version = FileVersion(tokenUTF8: UnsafeBufferPointer(rebasing: rest[..<space])),
                  let checksum = Checksum(hexUTF8: UnsafeBufferPointer(rebasing: rest[(space + 1)...])) else { return nil }
            return WrittenRecord(version: version, checksum: checksum)
        }
        guard let record = parsed ?? nil else { return nil }
        self = record
    }

    /// Still the file softcopy wrote: same size, and the mtime it set from the source.
    func describes(size: UInt64, mtimeNanoseconds: Int64) -> Bool {
        version.size == size && version.mtimeNanoseconds == mtimeNanoseconds
    }

    /// The record on an open file, if it has one that still describes the file (`status`).
    static func current(on file: borrowing FileDescriptor, status: FileStatus) -> WrittenRecord? {
        current(attribute: file.attribute(attributeName), status: status)
    }

    /// The record in an attribute's bytes (however they were read), if it still describes
    /// the file whose status is `status`.
    static func current(attribute bytes: [UInt8]?, status: FileStatus) -> WrittenRecord? {
        guard let bytes, let record = WrittenRecord(bytes: bytes),
              record.describes(size: status.version.size, mtimeNanoseconds: status.version.mtimeNanoseconds) else { return nil }
        return record
    }
}
