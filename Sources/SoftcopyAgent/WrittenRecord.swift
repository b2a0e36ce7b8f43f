package import SoftcopyCore
import SoftcopyIO

/// What an agent records on each file it writes, in the `user.softcopy` extended
/// attribute: the source version the bytes came from and their checksum. It is set on
/// the temp file before the rename, so it always describes the bytes under the real name.
/// It is trusted only while the file's size and mtime still are the ones softcopy gave it.
package struct WrittenRecord: Sendable, Hashable {
    package var version: FileVersion
    package var checksum: Checksum

    static let attributeName = "user.softcopy"

    /// The record as written: "sc2", then inode, size, mtime, ctime and the checksum's
    /// high and low words, each 8 bytes little-endian (51 bytes). ext4 keeps an attribute
    /// this short inside a 256-byte inode; the text form before it ("softcopy1 <token>
    /// <hex>", about 98 bytes, still read) took an attribute block of its own, a block
    /// allocated and journaled per file (`fsetxattr` was 5% of an agent's samples with
    /// 16 KiB files).
    package var bytes: [UInt8] {
        var out = Self.magic
        out.reserveCapacity(Self.length)
        for word in [version.inode, version.size, UInt64(bitPattern: version.mtimeNanoseconds),
                     UInt64(bitPattern: version.ctimeNanoseconds), checksum.high, checksum.low] {
            withUnsafeBytes(of: word.littleEndian) { out.append(contentsOf: $0) }
        }
        return out
    }

    static let magic: [UInt8] = Array("sc2".utf8)
    static let length = magic.count + 6 * 8

    package init(version: FileVersion, checksum: Checksum) {
        self.version = version
        self.checksum = checksum
    }

    /// Either form: the binary one `bytes` writes, or the text one of earlier versions.
    package init?(bytes: [UInt8]) {
        if bytes.count == Self.length, bytes.starts(with: Self.magic) {
            self = bytes.withUnsafeBytes { raw in
                func word(_ i: Int) -> UInt64 {
                    UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: Self.magic.count + 8 * i, as: UInt64.self))
                }
                return WrittenRecord(version: FileVersion(inode: word(0), size: word(1), mtimeNanoseconds: Int64(bitPattern: word(2)),
                                                          ctimeNanoseconds: Int64(bitPattern: word(3))),
                                     checksum: Checksum(high: word(4), low: word(5)))
            }
            return
        }
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
