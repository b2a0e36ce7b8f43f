import CSoftcopyShims
import SoftcopyCore

/// CRC-32C (Castagnoli), the checksum S3 servers verify in `x-amz-checksum-crc32c`: a
/// body damaged on the way is refused (400 BadDigest) before it becomes an object.
/// Computed in C (`softcopy_crc32c_update`): the CPU's crc32 instruction where there is
/// one. A byte at a time in Swift cost about 2 CPU-s per GiB; eight-table slicing 0.3,
/// still a tenth of an upload's CPU; the instruction about a tenth of that.
public struct CRC32C: Sendable {
    private var state: UInt32 = 0xFFFF_FFFF

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        state = softcopy_crc32c_update(state, base, bytes.count)
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

    /// Whether the CPU's instruction is in use; `forceSoftware` makes the tables serve
    /// (for tests of both paths).
    public static var usesHardware: Bool { softcopy_crc32c_uses_hardware() != 0 }
    public static func forceSoftware(_ force: Bool) { softcopy_crc32c_force_software(force ? 1 : 0) }
}
