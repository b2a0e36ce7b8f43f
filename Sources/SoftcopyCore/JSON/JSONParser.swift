/// A strict, bounded JSON parser (RFC 8259) with two leniencies that real zarr metadata
/// needs: bare `NaN`, `Infinity` and `-Infinity` (Python's json module writes them).
/// Errors carry a line and column so a malformed metadata file can be named precisely.
public struct JSONParser {
    public struct Error: Swift.Error, Equatable, CustomStringConvertible {
        public var message: String
        public var line: Int
        public var column: Int
        public var description: String { "line \(line), column \(column): \(message)" }

        public init(message: String, line: Int, column: Int) {
            self.message = message
            self.line = line
            self.column = column
        }
    }

    /// Nesting deeper than this is rejected rather than recursed into.
    public static let maximumDepth = 256

    private let bytes: [UInt8]
    private var index = 0
    /// False when only checking: arrays and objects are parsed but not kept.
    private var keeping = true

    public static func parse(_ text: String) throws(Error) -> JSONValue {
        try parse(bytes: Array(text.utf8))
    }

    public static func parse(bytes: [UInt8]) throws(Error) -> JSONValue {
        var parser = JSONParser(bytes: bytes)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        if parser.index != bytes.count {
            throw parser.error("unexpected text after the JSON value")
        }
        return value
    }

    /// True if `bytes` are one JSON value that `parse` would read (see `JSONValidator`).
    public static func isValid(bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { buffer in
            var validator = JSONValidator(buffer)
            return validator.isValid()
        }
    }

    /// Checks that `bytes` are one JSON value without building it (a manifest of a
    /// million entries would cost hundreds of MB as a JSONValue); the error names what is
    /// wrong and where.
    public static func validate(bytes: [UInt8]) throws(Error) {
        if isValid(bytes: bytes) { return }
        // Refused: the parser, slower, finds the place to name.
        var parser = JSONParser(bytes: bytes)
        parser.keeping = false
        parser.skipWhitespace()
        _ = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        if parser.index != bytes.count {
            throw parser.error("unexpected text after the JSON value")
        }
        throw parser.error("not valid JSON")  // the two disagree; the fuzz tests look for that
    }

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    private func error(_ message: String) -> Error {
        var line = 1
        var column = 1
        for b in bytes[..<min(index, bytes.count)] {
            if b == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if b & 0xC0 != 0x80 {
                column += 1
            }
        }
        return Error(message: message, line: line, column: column)
    }

    private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipWhitespace() {
        while let c = current, c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 {
            index += 1
        }
    }

    private mutating func expect(_ literal: String) -> Bool {
        let utf8 = Array(literal.utf8)
        guard index + utf8.count <= bytes.count, Array(bytes[index..<index + utf8.count]) == utf8 else {
            return false
        }
        index += utf8.count
        return true
    }

    private mutating func parseValue(depth: Int) throws(Error) -> JSONValue {
        guard depth < Self.maximumDepth else { throw error("nesting deeper than \(Self.maximumDepth)") }
        guard let c = current else { throw error("unexpected end of input") }
        switch c {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"):
            if expect("true") { return .bool(true) }
        case UInt8(ascii: "f"):
            if expect("false") { return .bool(false) }
        case UInt8(ascii: "n"):
            if expect("null") { return .null }
        case UInt8(ascii: "N"):
            if expect("NaN") { return .number("NaN") }
        case UInt8(ascii: "I"):
            if expect("Infinity") { return .number("Infinity") }
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .number(try parseNumber())
        default:
            break
        }
        throw error("unexpected character '\(Unicode.Scalar(c))'")
    }

    private mutating func parseObject(depth: Int) throws(Error) -> JSONValue {
        index += 1
        var members: [(key: String, value: JSONValue)] = []
        skipWhitespace()
        if current == UInt8(ascii: "}") {
            index += 1
            return .object(members)
        }
        while true {
            let (key, value, last) = try parseMember(depth: depth)
            if keeping { members.append((key, value)) }
            if last { return .object(members) }
        }
    }

    /// One `"key": value` of an object and the `,` or `}` after it (`last` for `}`).
    private mutating func parseMember(depth: Int) throws(Error) -> (key: String, value: JSONValue, last: Bool) {
        skipWhitespace()
        guard current == UInt8(ascii: "\"") else { throw error("expected a string key") }
        let key = try parseString()
        skipWhitespace()
        guard current == UInt8(ascii: ":") else { throw error("expected ':' after key \"\(key)\"") }
        index += 1
        skipWhitespace()
        let value = try parseValue(depth: depth + 1)
        skipWhitespace()
        switch current {
        case UInt8(ascii: ","):
            index += 1
            return (key, value, false)
        case UInt8(ascii: "}"):
            index += 1
            return (key, value, true)
        default: throw error("expected ',' or '}' in object")
        }
    }

    private mutating func parseArray(depth: Int) throws(Error) -> JSONValue {
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if current == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            let element = try parseValue(depth: depth + 1)
            if keeping { elements.append(element) }
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"):
                index += 1
                return .array(elements)
            default: throw error("expected ',' or ']' in array")
            }
        }
    }

    private mutating func parseNumber() throws(Error) -> String {
        let start = index
        if current == UInt8(ascii: "-") {
            index += 1
            if expect("Infinity") { return "-Infinity" }
        }
        func digits(_ p: inout JSONParser) -> Int {
            var n = 0
            while let c = p.current, c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") {
                p.index += 1
                n += 1
            }
            return n
        }
        if current == UInt8(ascii: "0") {
            index += 1
        } else if digits(&self) == 0 {
            throw error("expected a digit")
        }
        if current == UInt8(ascii: ".") {
            index += 1
            guard digits(&self) > 0 else { throw error("expected a digit after '.'") }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            index += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
            guard digits(&self) > 0 else { throw error("expected a digit in the exponent") }
        }
        return keeping ? String(decoding: bytes[start..<index], as: UTF8.self) : ""
    }

    private mutating func parseHex4() throws(Error) -> UInt32 {
        guard index + 4 <= bytes.count else { throw error("truncated \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let digit = HexDigit.value(bytes[index]) else { throw error("invalid hex digit in \\u escape") }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    private mutating func parseString() throws(Error) -> String {
        index += 1
        // Most strings (paths, hex) have no escapes: make the String from the bytes in one
        // step (short ones need no allocation at all) instead of byte by byte.
        let start = index
        var high: UInt8 = 0
        while index < bytes.count {
            let c = bytes[index]
            high |= c
            if c == UInt8(ascii: "\"") {
                if !keeping, high < 0x80 {
                    index += 1
                    return ""  // ASCII is valid UTF-8: nothing to build when only checking
                }
                guard let s = String(validating: bytes[start..<index], as: UTF8.self) else {
                    throw error("string is not valid UTF-8")
                }
                index += 1
                return s
            }
            if c == UInt8(ascii: "\\") || c < 0x20 { break }
            index += 1
        }
        index = start
        var out: [UInt8] = []
        while true {
            guard let c = current else { throw error("unterminated string") }
            index += 1
            switch c {
            case UInt8(ascii: "\""):
                guard let s = String(validating: out, as: UTF8.self) else {
                    throw error("string is not valid UTF-8")
                }
                return s
            case UInt8(ascii: "\\"):
                guard let e = current else { throw error("unterminated escape") }
                index += 1
                switch e {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try parseHex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        guard expect("\\u") else { throw error("unpaired surrogate in \\u escape") }
                        let low = try parseHex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw error("invalid low surrogate") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let u = Unicode.Scalar(scalar) else { throw error("invalid unicode escape") }
                    out.append(contentsOf: Array(String(Character(u)).utf8))
                default:
                    throw error("invalid escape '\\\(Unicode.Scalar(e))'")
                }
            case 0x00..<0x20:
                throw error("control character in string")
            default:
                out.append(c)
            }
        }
    }
}

extension JSONParser {
    /// Reads a top-level JSON object one member at a time, so a listing of a million
    /// entries is never one JSONValue (its tree cost more than the entries it held).
    public struct ObjectReader {
        private var parser: JSONParser
        private var done = false
        private var first = true

        public init(bytes: [UInt8]) throws(Error) {
            parser = JSONParser(bytes: bytes)
            parser.skipWhitespace()
            guard parser.current == UInt8(ascii: "{") else { throw parser.error("expected an object") }
            parser.index += 1
        }

        /// The next member; nil after the last. The whole text must be that one object.
        public mutating func next() throws(Error) -> (key: String, value: JSONValue)? {
            guard !done else { return nil }
            parser.skipWhitespace()
            if first {
                first = false
                if parser.current == UInt8(ascii: "}") {
                    parser.index += 1
                    try finish()
                    return nil
                }
            }
            let (key, value, last) = try parser.parseMember(depth: 0)
            if last { try finish() }
            return (key, value)
        }

        private mutating func finish() throws(Error) {
            done = true
            parser.skipWhitespace()
            if parser.index != parser.bytes.count { throw parser.error("unexpected text after the JSON value") }
        }
    }
}
