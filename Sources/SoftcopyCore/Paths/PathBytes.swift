/// File names are bytes, not text: Linux allows any byte but `/` and NUL in a name, and an
/// acquisition PC's files can be named in Latin-1 or cut mid-character. softcopy carries a
/// name in a Swift `String` (small names stay inline: millions of paths are the
/// coordinator's memory), so a name that is not valid UTF-8 is encoded, reversibly:
///
/// - every byte that is not part of a valid UTF-8 sequence, 0x80...0xFF (ASCII is always
///   valid), becomes the code point U+10FF00 + byte, U+10FF80...U+10FFFF;
/// - a name that really holds one of those code points (valid UTF-8 `F4 8F BE/BF xx`) has
///   each of its four bytes encoded the same way, so no encoded string is ambiguous.
///
/// The encoding is what Python's `surrogateescape` does, on code points that are valid in
/// a Swift `String` and in JSON (lone surrogates are neither). Every valid UTF-8 name
/// without those code points is its own encoding, so nothing changes for ordinary names.
/// Every system call decodes back to the exact bytes (`withCString`); the protocol, the
/// journal and the manifest carry the encoded text, and URLs carry the raw bytes,
/// percent-escaped.
public enum PathBytes {
    /// The first code point of the escapes: U+10FF00 + byte.
    static let escapeBase: UInt32 = 0x10_FF00
    /// Every escape's UTF-8 starts with this byte (as does any code point from U+100000).
    static let escapeLead: UInt8 = 0xF4

    /// The text for a name (or a path) given as bytes.
    public static func string(from bytes: UnsafeBufferPointer<UInt8>) -> String {
        // Fast path: valid UTF-8 without a code point from plane 16 is its own encoding.
        if !bytes.contains(escapeLead), let text = String(validating: bytes, as: UTF8.self) { return text }
        var scalars = String.UnicodeScalarView()
        var i = 0
        while i < bytes.count {
            let length = validSequenceLength(bytes, at: i)
            guard length > 0 else {
                scalars.append(escape(bytes[i]))
                i += 1
                continue
            }
            let scalar = decodeScalar(bytes, at: i, length: length)
            if scalar.value >= escapeBase + 0x80 {
                for b in bytes[i..<(i + length)] { scalars.append(escape(b)) }
            } else {
                scalars.append(scalar)
            }
            i += length
        }
        return String(scalars)
    }

    public static func string(from bytes: [UInt8]) -> String {
        bytes.withUnsafeBufferPointer { string(from: $0) }
    }

    /// The exact bytes a name's text stands for.
    public static func bytes(of text: String) -> [UInt8] {
        guard isEncoded(text) else { return Array(text.utf8) }
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            if let byte = escapedByte(scalar) {
                out.append(byte)
            } else {
                out += String(scalar).utf8
            }
        }
        return out
    }

    /// Whether `text` may hold escapes (its bytes then differ from its UTF-8).
    @inline(__always)
    public static func isEncoded(_ text: String) -> Bool {
        text.utf8.contains(escapeLead)
    }

    /// The one encoding of `text`: escapes that spell valid UTF-8 are turned back into the
    /// characters they spell, so that two texts for the same bytes are the same text.
    public static func canonical(_ text: String) -> String {
        guard isEncoded(text) else { return text }
        return bytes(of: text).withUnsafeBufferPointer { string(from: $0) }
    }

    /// How many bytes the name stands for (limits are in bytes: NAME_MAX, PATH_MAX).
    public static func byteCount(_ text: String) -> Int {
        guard isEncoded(text) else { return text.utf8.count }
        return text.unicodeScalars.reduce(0) { $0 + (escapedByte($1) != nil ? 1 : String($1).utf8.count) }
    }

    /// Calls `body` with the NUL-terminated bytes of `text`, for a system call.
    @inline(__always)
    public static func withCString<R>(_ text: String, _ body: (UnsafePointer<CChar>) -> R) -> R {
        guard isEncoded(text) else { return text.withCString(body) }
        let raw = bytes(of: text) + [0]
        return raw.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { body($0.baseAddress!) }
        }
    }

    /// The name for people: valid characters as they are, each escaped byte as `\xNN`.
    public static func display(_ text: String) -> String {
        guard isEncoded(text) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            if let byte = escapedByte(scalar) {
                out += "\\x" + String(byte, radix: 16, uppercase: true)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    static func escape(_ byte: UInt8) -> Unicode.Scalar {
        Unicode.Scalar(escapeBase + UInt32(byte))!
    }

    static func escapedByte(_ scalar: Unicode.Scalar) -> UInt8? {
        scalar.value >= escapeBase + 0x80 && scalar.value <= escapeBase + 0xFF ? UInt8(scalar.value - escapeBase) : nil
    }

    /// The length of the well-formed UTF-8 sequence at `i` (Unicode table 3-7), or 0.
    static func validSequenceLength(_ b: UnsafeBufferPointer<UInt8>, at i: Int) -> Int {
        let lead = b[i]
        func continuation(_ k: Int, _ range: ClosedRange<UInt8> = 0x80...0xBF) -> Bool {
            i + k < b.count && range.contains(b[i + k])
        }
        switch lead {
        case 0x00...0x7F: return 1
        case 0xC2...0xDF: return continuation(1) ? 2 : 0
        case 0xE0: return continuation(1, 0xA0...0xBF) && continuation(2) ? 3 : 0
        case 0xE1...0xEC, 0xEE...0xEF: return continuation(1) && continuation(2) ? 3 : 0
        case 0xED: return continuation(1, 0x80...0x9F) && continuation(2) ? 3 : 0
        case 0xF0: return continuation(1, 0x90...0xBF) && continuation(2) && continuation(3) ? 4 : 0
        case 0xF1...0xF3: return continuation(1) && continuation(2) && continuation(3) ? 4 : 0
        case 0xF4: return continuation(1, 0x80...0x8F) && continuation(2) && continuation(3) ? 4 : 0
        default: return 0
        }
    }

    static func decodeScalar(_ b: UnsafeBufferPointer<UInt8>, at i: Int, length: Int) -> Unicode.Scalar {
        var value: UInt32
        switch length {
        case 1: return Unicode.Scalar(b[i])
        case 2: value = UInt32(b[i] & 0x1F)
        case 3: value = UInt32(b[i] & 0x0F)
        default: value = UInt32(b[i] & 0x07)
        }
        for k in 1..<length { value = value << 6 | UInt32(b[i + k] & 0x3F) }
        return Unicode.Scalar(value)!
    }
}
