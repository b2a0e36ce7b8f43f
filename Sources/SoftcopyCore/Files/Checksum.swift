/// An XXH3-128 digest. The hex form is xxhash's canonical one (big-endian, high half
/// first), the same string `xxh128sum` prints.
public struct Checksum: Sendable, Hashable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    public static let algorithm = "xxh3-128"

    /// The 32 hex digits appended to `out`, without a String in between.
    public func appendHex(to out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { digits in
            for i in 0..<32 { digits[i] = hexDigit(i) }
            out.append(contentsOf: UnsafeBufferPointer(digits))
        }
    }

    public var hex: String {
        String(unsafeUninitializedCapacity: 32) { out in
            for i in 0..<32 { out[i] = hexDigit(i) }
            return 32
        }
    }

    /// The `i`th of the 32 lowercase hex digits, high word first.
    private func hexDigit(_ i: Int) -> UInt8 {
        let word = i < 16 ? high : low
        let nibble = UInt8(truncatingIfNeeded: word >> UInt64(60 - 4 * (i % 16))) & 0xF
        return nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }

    public init?(hex: some StringProtocol) {
        var hex = String(hex)
        guard let checksum = hex.withUTF8({ Checksum(hexUTF8: $0) }) else { return nil }
        self = checksum
    }

    /// 32 hex digits, high word first; no intermediate arrays (one per file in a listing),
    /// and not generic, so it is compiled once for these bytes.
    public init?(hexUTF8 utf8: UnsafeBufferPointer<UInt8>) {
        guard utf8.count == 32 else { return nil }
        var high: UInt64 = 0, low: UInt64 = 0
        for i in 0..<32 {
            let c = utf8[i]
            var value = c &- UInt8(ascii: "0")
            if value > 9 {
                // A letter either case: a-f and A-F differ only in bit 0x20.
                value = (c | 0x20) &- UInt8(ascii: "a")
                guard value < 6 else { return nil }
                value += 10
            }
            if i < 16 { high = high << 4 | UInt64(value) } else { low = low << 4 | UInt64(value) }
        }
        self.init(high: high, low: low)
    }

    public var description: String { hex }
}
