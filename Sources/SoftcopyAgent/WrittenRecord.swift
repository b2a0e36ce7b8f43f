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
        let parts = String(decoding: bytes, as: UTF8.self).split(separator: " ")
        guard parts.count == 3, parts[0] == "softcopy1", let version = FileVersion(token: parts[1]),
              let checksum = Checksum(hex: parts[2]) else { return nil }
        self.init(version: version, checksum: checksum)
    }

    /// Still the file softcopy wrote: same size, and the mtime it set from the source.
    func describes(size: UInt64, mtimeNanoseconds: Int64) -> Bool {
        version.size == size && version.mtimeNanoseconds == mtimeNanoseconds
    }

    /// The record on an open file, if it has one that still describes the file (`status`).
    static func current(on file: borrowing FileDescriptor, status: FileStatus) -> WrittenRecord? {
        guard let bytes = file.attribute(attributeName), let record = WrittenRecord(bytes: bytes),
              record.describes(size: status.version.size, mtimeNanoseconds: status.version.mtimeNanoseconds) else { return nil }
        return record
    }
}
