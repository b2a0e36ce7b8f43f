import Testing
import SoftcopyCore

@Suite("Read view: byte ranges and entity tags as zarr readers send them")
struct ReadViewTests {
    @Test("a Range header is one range or none (the whole file)", arguments: [
        ("bytes=0-99", ByteRange.from(0, through: 99)), ("bytes=100-", .from(100, through: nil)), ("bytes=-16", .suffix(16)),
        (" bytes = 5-5 ", nil), ("BYTES=1-2", .from(1, through: 2)), ("bytes=5-4", nil), ("bytes=0-1,4-5", nil),
        ("items=0-1", nil), ("bytes=-", nil), ("bytes=a-1", nil), ("bytes=+1-2", nil), ("bytes=99999999999999999999-", nil),
    ] as [(String, ByteRange?)])
    func parse(_ header: String, _ expected: ByteRange?) {
        #expect(ByteRange.parse(header) == expected, "\(header)")
    }

    @Test("a range resolves against the file's length: clipped at the end, 416 past it, a suffix longer than the file is the file")
    func resolve() {
        #expect(ByteRange.from(0, through: 99).resolve(length: 1000) == .part(offset: 0, length: 100))
        #expect(ByteRange.from(990, through: 2000).resolve(length: 1000) == .part(offset: 990, length: 10))
        #expect(ByteRange.from(1000, through: nil).resolve(length: 1000) == .unsatisfiable)
        #expect(ByteRange.suffix(16).resolve(length: 1000) == .part(offset: 984, length: 16))
        #expect(ByteRange.suffix(5000).resolve(length: 1000) == .part(offset: 0, length: 1000))
        #expect(ByteRange.suffix(0).resolve(length: 1000) == .unsatisfiable)
        #expect(ByteRange.suffix(4).resolve(length: 0) == .unsatisfiable)
        #expect(ByteRange.contentRange(.part(offset: 984, length: 16), total: 1000) == "bytes 984-999/1000")
        #expect(ByteRange.contentRange(.unsatisfiable, total: 1000) == "bytes */1000")
        #expect(ByteRange.contentRange(.whole, total: 1000) == nil)
    }

    @Test("the ETag is the checksum every node verified; If-None-Match compares weakly, If-Match strongly")
    func entityTag() {
        let tag = EntityTag(Checksum(high: 0x0123_4567_89ab_cdef, low: 0xfedc_ba98_7654_3210))
        #expect(tag.description == "\"xxh3-0123456789abcdeffedcba9876543210\"")
        #expect(tag.matchesNoneMatch("\"other\", \(tag)"))
        #expect(tag.matchesNoneMatch("W/\(tag)") && tag.matchesNoneMatch("*"))
        #expect(!tag.matchesNoneMatch("\"xxh3-0\""))
        #expect(tag.matchesIfMatch("\(tag)") && tag.matchesIfMatch("*"))
        #expect(!tag.matchesIfMatch("W/\(tag)"), "a weak tag never matches If-Match")
    }
}
