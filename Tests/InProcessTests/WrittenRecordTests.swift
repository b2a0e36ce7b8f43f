import Testing
import SoftcopyAgent
import SoftcopyCore

@Suite("The record an agent keeps on each file (user.softcopy)")
struct WrittenRecordTests {
    static let records = [
        WrittenRecord(version: FileVersion(inode: 1, size: 0, mtimeNanoseconds: 0, ctimeNanoseconds: 0), checksum: Checksum(high: 0, low: 0)),
        WrittenRecord(version: FileVersion(inode: .max, size: 16 << 10, mtimeNanoseconds: 1_765_000_000_123_456_789, ctimeNanoseconds: -1),
                      checksum: Checksum(high: 0x0123_4567_89AB_CDEF, low: .max)),
        WrittenRecord(version: FileVersion(inode: 12_345_678, size: 1 << 40, mtimeNanoseconds: -5, ctimeNanoseconds: .max),
                      checksum: Checksum(high: .max, low: 1)),
    ]

    @Test("what is written reads back as the same record, and fits inside a 256-byte ext4 inode")
    func roundTrip() {
        for record in Self.records {
            let bytes = record.bytes
            // A 256-byte ext4 inode has 96 bytes for attributes after its 32 extra bytes: a
            // 4-byte header, then the 16-byte entry, the name "softcopy" (8), the value rounded
            // up to 4 bytes, and a 4-byte end. (Measured: 51 bytes fit, 68 took a block.)
            #expect(4 + 16 + 8 + (bytes.count + 3) / 4 * 4 + 4 <= 96, "\(bytes.count) bytes")
            #expect(WrittenRecord(bytes: bytes) == record)
        }
    }

    @Test("the text form of earlier versions is still read")
    func earlierForm() {
        for record in Self.records {
            let text = Array("softcopy1 \(record.version.token) \(record.checksum.hex)".utf8)
            #expect(WrittenRecord(bytes: text) == record)
        }
    }

    @Test("a cut, lengthened or foreign attribute is no record")
    func refusals() {
        let bytes = Self.records[1].bytes
        #expect(WrittenRecord(bytes: Array(bytes.dropLast())) == nil)
        #expect(WrittenRecord(bytes: bytes + [0]) == nil)
        #expect(WrittenRecord(bytes: Array("sc3".utf8) + bytes.dropFirst(3)) == nil)
        #expect(WrittenRecord(bytes: []) == nil)
        #expect(WrittenRecord(bytes: Array("softcopy1 1:2:3:4 nothex".utf8)) == nil)
    }
}
