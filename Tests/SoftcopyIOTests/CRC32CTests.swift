import Testing
import SoftcopyCore
import SoftcopyIO

/// Serialized: one test switches the C code's path for the whole process.
@Suite("CRC-32C: the CPU instruction and the tables, against the definition", .serialized)
struct CRC32CTests {
    @Test("CRC-32C gives the reference values piece by piece, at every length and alignment, by the instruction and by the tables",
          arguments: [false, true])
    func checksums(software: Bool) {
        CRC32C.forceSoftware(software)
        defer { CRC32C.forceSoftware(false) }
        #expect(software ? !CRC32C.usesHardware : true)
        #if arch(x86_64)
        #expect(software || CRC32C.usesHardware, "x86-64 has had SSE 4.2 since 2008")
        #endif
        #expect(CRC32C.of(Array("123456789".utf8)).value == 0xE306_9283)
        #expect(CRC32C.of([]).value == 0)
        #expect(CRC32C.of(Array("123456789".utf8)).base64 == "4waSgw==")
        var split = CRC32C()
        Array("1234".utf8).withUnsafeBytes { split.update($0) }
        Array("56789".utf8).withUnsafeBytes { split.update($0) }
        #expect(split.value == 0xE306_9283, "piece by piece is the same")
        func reference(_ bytes: ArraySlice<UInt8>) -> UInt32 {
            var c: UInt32 = 0xFFFF_FFFF
            for b in bytes {
                c ^= UInt32(b)
                for _ in 0..<8 { c = c & 1 == 1 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
            }
            return c ^ 0xFFFF_FFFF
        }
        let data = (0..<300).map { (i: Int) in UInt8(truncatingIfNeeded: (i &* 2_654_435_761) >> 13) }
        for start in 0..<9 {
            for length in [0, 1, 7, 8, 9, 15, 16, 17, 64, 200] {
                let slice = data[start..<(start + length)]
                var c = CRC32C()
                slice.withUnsafeBytes { c.update($0) }
                #expect(c.value == reference(slice), "\(start) \(length)")
            }
        }
    }
}
