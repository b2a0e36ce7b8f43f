/// The few XML documents S3 answers with (a listing, a multipart upload's id, an error),
/// read by element name. S3 writes no comments or CDATA where these live, attributes only
/// on the root (`xmlns`), and escapes `<` and `&` in text, so a scan for `<Name…>…</Name>`
/// finds each value; entities are decoded.
public struct S3XML: Sendable {
    private let text: [UInt8]

    public init(_ bytes: [UInt8]) {
        text = bytes
    }

    /// The text of every `<name>` element, in order (of its first level of nesting, as
    /// found: `Key` inside each `Contents`).
    public func values(_ name: String) -> [String] {
        elements(name).map { Self.decode(Array($0)) }
    }

    /// The first `<name>` element's text.
    public func value(_ name: String) -> String? {
        values(name).first
    }

    /// Each `<name>…</name>` element's inner bytes, as a document of its own.
    public func children(_ name: String) -> [S3XML] {
        elements(name).map { S3XML(Array($0)) }
    }

    private func elements(_ name: String) -> [ArraySlice<UInt8>] {
        // `<Name>` or `<Name xmlns="…">`: the name, then `>` or a space.
        let open = Array("<\(name)".utf8), close = Array("</\(name)>".utf8)
        var out: [ArraySlice<UInt8>] = []
        var i = 0
        while let start = Self.find(open, in: text, from: i) {
            let after = start + open.count
            guard after < text.count else { break }
            guard text[after] == UInt8(ascii: ">") || text[after] == UInt8(ascii: " ") || text[after] == UInt8(ascii: "\n"),
                  let tagEnd = text[after...].firstIndex(of: UInt8(ascii: ">")) else {
                i = after
                continue
            }
            let inner = tagEnd + 1
            guard let end = Self.find(close, in: text, from: inner) else { break }
            out.append(text[inner..<end])
            i = end + close.count
        }
        return out
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        var i = from
        while i + needle.count <= haystack.count {
            if haystack[i] == needle[0], haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }

    /// Text with its five named entities and numeric references decoded.
    static func decode(_ bytes: [UInt8]) -> String {
        guard bytes.contains(UInt8(ascii: "&")) else { return String(decoding: bytes, as: UTF8.self) }
        var out = ""
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "&"), let semicolon = bytes[i...].firstIndex(of: UInt8(ascii: ";")), semicolon - i <= 10 {
                let entity = String(decoding: bytes[(i + 1)..<semicolon], as: UTF8.self)
                var scalar: Unicode.Scalar?
                switch entity {
                case "amp": scalar = "&"
                case "lt": scalar = "<"
                case "gt": scalar = ">"
                case "quot": scalar = "\""
                case "apos": scalar = "'"
                default:
                    if entity.hasPrefix("#x") || entity.hasPrefix("#X") {
                        scalar = UInt32(entity.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init)
                    } else if entity.hasPrefix("#") {
                        scalar = UInt32(entity.dropFirst()).flatMap(Unicode.Scalar.init)
                    }
                }
                if let scalar {
                    out.unicodeScalars.append(scalar)
                    i = semicolon + 1
                    continue
                }
            }
            // A run of bytes up to the next '&', as UTF-8.
            let next = bytes[(i + 1)...].firstIndex(of: UInt8(ascii: "&")) ?? bytes.count
            out += String(decoding: bytes[i..<next], as: UTF8.self)
            i = next
        }
        return out
    }
}
