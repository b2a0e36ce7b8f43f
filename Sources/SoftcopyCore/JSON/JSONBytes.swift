/// JSON written straight into bytes: listings and manifests of a million files, where a
/// String per field (or a JSONValue tree) cost seconds.
public enum JSONBytes {
    /// Whether `s` goes into a JSON string as it is, with no escape.
    public static func isPlain(_ s: String) -> Bool {
        !s.utf8.contains(where: JSONValue.needsEscape)
    }

    /// A JSON string: most paths need no escape and are copied as they are.
    public static func appendString(_ s: String, to out: inout [UInt8]) {
        if !isPlain(s) {
            var escaped = ""
            JSONValue.writeString(s, into: &escaped)
            out += escaped.utf8
        } else {
            out.append(UInt8(ascii: "\""))
            out += s.utf8
            out.append(UInt8(ascii: "\""))
        }
    }

    /// Digits made on the stack and appended at once: appending byte by byte checks the
    /// array's uniqueness and capacity for each.
    public static func appendDecimal(_ value: UInt64, to out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var i = digits.count
            var rest = value
            repeat {
                i -= 1
                digits[i] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
            } while rest > 0
            out.append(contentsOf: UnsafeBufferPointer(rebasing: digits[i...]))
        }
    }

    public static func appendDecimal(_ value: Int64, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        appendDecimal(value.magnitude, to: &out)
    }
}
