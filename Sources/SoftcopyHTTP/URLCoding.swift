import SoftcopyCore

/// Percent-encoding for paths and queries. Decoding keeps every component, including
/// `..` and empty ones, so the router can refuse them with a clear message instead of
/// silently normalising a path into somewhere else.
public enum URLCoding {
    public static func split(_ uri: String) -> (path: [String], query: [String: String]) {
        let pathPart: Substring
        var query: [String: String] = [:]
        if let q = uri.firstIndex(of: "?") {
            pathPart = uri[..<q]
            for pair in uri[uri.index(after: q)...].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let key = decode(kv[0]) ?? String(kv[0])
                query[key] = kv.count > 1 ? (decode(kv[1]) ?? String(kv[1])) : ""
            }
        } else {
            pathPart = Substring(uri)
        }
        var components = pathPart.split(separator: "/", omittingEmptySubsequences: false).map { decode($0) ?? "\u{0}" }
        if components.first == "" { components.removeFirst() }
        if components.last == "" { components.removeLast() }
        return (components, query)
    }

    /// Nil for a malformed escape; the NUL it becomes in `split` is refused by path validation.
    /// Decoded bytes that are not UTF-8 (a file name's) are kept, as `PathBytes` encodes them.
    public static func decode(_ text: some StringProtocol) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var it = text.utf8.makeIterator()
        while let c = it.next() {
            if c == UInt8(ascii: "%") {
                guard let h = it.next(), let l = it.next(), let hv = HexDigit.value(h), let lv = HexDigit.value(l) else { return nil }
                bytes.append(hv << 4 | lv)
            } else if c == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else {
                bytes.append(c)
            }
        }
        return PathBytes.string(from: bytes)
    }

    /// Encodes a relative path for a URL, keeping `/` between components. A name's bytes
    /// are escaped as they are on disk (`caf%E9`), not as their `PathBytes` text.
    public static func encodePath(_ path: String) -> String {
        encode(path, keepingSlash: true)
    }

    /// Encodes a query name or value: every byte but the unreserved ones, `/` too (the
    /// form AWS Signature Version 4 signs).
    public static func encodeComponent(_ text: String) -> String {
        encode(text, keepingSlash: false)
    }

    private static func encode(_ path: String, keepingSlash: Bool) -> String {
        var out = ""
        out.reserveCapacity(path.utf8.count)
        for b in PathBytes.bytes(of: path) {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            case UInt8(ascii: "/") where keepingSlash:
                out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out += "%" + String(decoding: [hex[Int(b >> 4)], hex[Int(b & 15)]], as: UTF8.self)
            }
        }
        return out
    }
}
