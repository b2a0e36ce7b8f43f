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

    public var hex: String {
        var bytes = [UInt8]()
        bytes.reserveCapacity(32)
        for word in [high, low] {
            for shift in stride(from: 60, through: 0, by: -4) {
                let nibble = UInt8((word >> UInt64(shift)) & 0xF)
                bytes.append(nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    public init?(hex: some StringProtocol) {
        let utf8 = Array(hex.utf8)
        guard utf8.count == 32 else { return nil }
        var words: [UInt64] = [0, 0]
        for (i, c) in utf8.enumerated() {
            let value: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): value = c - UInt8(ascii: "A") + 10
            default: return nil
            }
            words[i / 16] = words[i / 16] << 4 | UInt64(value)
        }
        self.init(high: words[0], low: words[1])
    }

    public var description: String { hex }
}
