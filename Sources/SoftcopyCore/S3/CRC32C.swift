/// CRC-32C (Castagnoli), the checksum S3 servers verify in `x-amz-checksum-crc32c`: a
/// body damaged on the way is refused (400 BadDigest) before it becomes an object.
/// Table-driven, a byte at a time: the S3 path is bound by the network, not by this.
public struct CRC32C: Sendable {
    private static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 == 1 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
        return c
    }

    private var state: UInt32 = 0xFFFF_FFFF

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        var c = state
        for b in bytes { c = Self.table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        state = c
    }

    public var value: UInt32 { state ^ 0xFFFF_FFFF }

    /// The header's form: the four bytes, big-endian, in base64.
    public var base64: String {
        let v = value
        return Base64.encode([UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)])
    }

    public static func of(_ bytes: [UInt8]) -> CRC32C {
        var c = CRC32C()
        bytes.withUnsafeBytes { c.update($0) }
        return c
    }
}
