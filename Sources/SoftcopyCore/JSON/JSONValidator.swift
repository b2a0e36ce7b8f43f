/// Checks that bytes are exactly one JSON value as `JSONParser` reads it (the same
/// grammar, leniencies and depth limit), in one pass over the raw bytes that builds
/// nothing: an agent checks each manifest it stores, 150 MB for a million files, and the
/// parser's value-building path took 0.75 s over one. `JSONParser.validate` names the
/// error when this says no.
struct JSONValidator {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    mutating func isValid() -> Bool {
        withUnsafeTemporaryAllocation(of: Bool.self, capacity: JSONParser.maximumDepth) { kinds in
            isValid(kinds: kinds)
        }
    }

    /// `kinds` holds what each open container is (true: an object), outermost first.
    private mutating func isValid(kinds: UnsafeMutableBufferPointer<Bool>) -> Bool {
        var depth = 0
        skipWhitespace()
        while true {
            // A value starts here; containers push and continue with their first value.
            guard depth < JSONParser.maximumDepth, index < bytes.count else { return false }
            switch bytes[index] {
            case UInt8(ascii: "{"):
                index += 1
                skipWhitespace()
                if at(UInt8(ascii: "}")) {
                    index += 1
                } else {
                    kinds[depth] = true
                    depth += 1
                    guard key() else { return false }
                    continue
                }
            case UInt8(ascii: "["):
                index += 1
                skipWhitespace()
                if at(UInt8(ascii: "]")) {
                    index += 1
                } else {
                    kinds[depth] = false
                    depth += 1
                    continue
                }
            case UInt8(ascii: "\""):
                guard string() else { return false }
            default:
                guard scalar() else { return false }
            }
            // A value ended: close what it ends, then find where the next one starts.
            while true {
                skipWhitespace()
                guard depth > 0 else { return index == bytes.count }
                let isObject = kinds[depth - 1]
                guard index < bytes.count else { return false }
                let c = bytes[index]
                index += 1
                if c == UInt8(ascii: ",") {
                    skipWhitespace()
                    if isObject, !key() { return false }
                    break
                }
                guard c == (isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) else { return false }
                depth -= 1
            }
        }
    }

    private func at(_ c: UInt8) -> Bool {
        index < bytes.count && bytes[index] == c
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            let c = bytes[index]
            guard c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 else { return }
            index += 1
        }
    }

    /// `"key" :` and the whitespace up to the member's value.
    private mutating func key() -> Bool {
        guard at(UInt8(ascii: "\"")), string() else { return false }
        skipWhitespace()
        guard at(UInt8(ascii: ":")) else { return false }
        index += 1
        skipWhitespace()
        return true
    }

    /// A string from its opening quote: escapes as the parser decodes them, no control
    /// characters, and valid UTF-8 between escapes.
    private mutating func string() -> Bool {
        index += 1
        var segment = index
        var high: UInt8 = 0
        while index < bytes.count {
            // Eight plain bytes at a time: most of a manifest is paths and hex.
            if index + 8 <= bytes.count, Self.isPlain(UnsafeRawPointer(bytes.baseAddress! + index).loadUnaligned(as: UInt64.self)) {
                index += 8
                continue
            }
            let c = bytes[index]
            if c == UInt8(ascii: "\"") {
                guard high < 0x80 || Self.isUTF8(bytes[segment..<index]) else { return false }
                index += 1
                return true
            }
            if c < 0x20 { return false }
            if c == UInt8(ascii: "\\") {
                guard high < 0x80 || Self.isUTF8(bytes[segment..<index]) else { return false }
                index += 1
                guard escape() else { return false }
                segment = index
                high = 0
                continue
            }
            high |= c
            index += 1
        }
        return false
    }

    /// No quote, backslash, control character or non-ASCII byte among these eight
    /// (the bit tricks of "Bit Twiddling Hacks": a byte below n, a zero byte).
    private static func isPlain(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        func hasZero(_ v: UInt64) -> Bool { (v &- ones) & ~v & highs != 0 }
        let below20 = (word &- ones &* 0x20) & ~word & highs != 0
        return word & highs == 0 && !below20 && !hasZero(word ^ (ones &* 0x22)) && !hasZero(word ^ (ones &* 0x5C))
    }

    private static func isUTF8(_ slice: Slice<UnsafeBufferPointer<UInt8>>) -> Bool {
        String(validating: UnsafeBufferPointer(rebasing: slice), as: UTF8.self) != nil
    }

    /// The escape after a backslash: a surrogate pair must be whole, and a lone low
    /// surrogate is no scalar.
    private mutating func escape() -> Bool {
        guard index < bytes.count else { return false }
        let e = bytes[index]
        index += 1
        switch e {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
             UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            return true
        case UInt8(ascii: "u"):
            guard let scalar = hex4() else { return false }
            if (0xD800...0xDBFF).contains(scalar) {
                guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else { return false }
                index += 2
                guard let low = hex4() else { return false }
                return (0xDC00...0xDFFF).contains(low)
            }
            return !(0xDC00...0xDFFF).contains(scalar)
        default:
            return false
        }
    }

    private mutating func hex4() -> UInt32? {
        guard index + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let digit = HexDigit.value(bytes[index]) else { return nil }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    /// A literal or a number (the parser's leniencies included: NaN, Infinity, -Infinity).
    private mutating func scalar() -> Bool {
        switch bytes[index] {
        case UInt8(ascii: "t"): return literal("true")
        case UInt8(ascii: "f"): return literal("false")
        case UInt8(ascii: "n"): return literal("null")
        case UInt8(ascii: "N"): return literal("NaN")
        case UInt8(ascii: "I"): return literal("Infinity")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return number()
        default: return false
        }
    }

    private mutating func literal(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        let matches = word.withUTF8Buffer { w in
            (0..<count).allSatisfy { bytes[index + $0] == w[$0] }
        }
        if matches { index += count }
        return matches
    }

    private mutating func number() -> Bool {
        if at(UInt8(ascii: "-")) {
            index += 1
            if at(UInt8(ascii: "I")) { return literal("Infinity") }
        }
        if at(UInt8(ascii: "0")) {
            index += 1
        } else if digits() == 0 {
            return false
        }
        if at(UInt8(ascii: ".")) {
            index += 1
            guard digits() > 0 else { return false }
        }
        if at(UInt8(ascii: "e")) || at(UInt8(ascii: "E")) {
            index += 1
            if at(UInt8(ascii: "+")) || at(UInt8(ascii: "-")) { index += 1 }
            guard digits() > 0 else { return false }
        }
        return true
    }

    private mutating func digits() -> Int {
        let start = index
        while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
            index += 1
        }
        return index - start
    }
}
