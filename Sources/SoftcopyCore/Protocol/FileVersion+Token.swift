extension FileVersion {
    /// The version as one header-safe token, `inode:size:mtime_ns:ctime_ns`.
    public var token: String {
        "\(inode):\(size):\(mtimeNanoseconds):\(ctimeNanoseconds)"
    }

    public init?(token: some StringProtocol) {
        var token = String(token)
        guard let version = token.withUTF8({ FileVersion(tokenUTF8: $0) }) else { return nil }
        self = version
    }

    /// One pass over the bytes, no substrings: listings and records of a million files
    /// parse one token per file (split and Int(_:) cost 40% of a listing's time).
    /// Not generic, so it is compiled once for these bytes, not left to witness tables.
    public init?(tokenUTF8 utf8: UnsafeBufferPointer<UInt8>) {
        var bytes = utf8.makeIterator()
        guard let inode = Self.field(&bytes, signed: false), let size = Self.field(&bytes, signed: false),
              let mtime = Self.field(&bytes, signed: true), let ctime = Self.field(&bytes, signed: true, last: true) else { return nil }
        self.init(inode: UInt64(inode), size: UInt64(size), mtimeNanoseconds: Int64(mtime), ctimeNanoseconds: Int64(ctime))
    }

    /// Reads one decimal field up to its `:` (or the end, for the last); nil if it is empty,
    /// overflows its type, or holds anything else.
    private static func field(_ bytes: inout UnsafeBufferPointer<UInt8>.Iterator, signed: Bool, last: Bool = false) -> Int128? {
        var value: Int128 = 0, digits = 0, negative = false
        let limit: Int128 = signed ? Int128(Int64.max) : Int128(UInt64.max)
        while let c = bytes.next() {
            if c == UInt8(ascii: ":") {
                guard !last else { return nil }
                return digits > 0 ? (negative ? -value : value) : nil
            }
            if c == UInt8(ascii: "-"), signed, digits == 0, !negative {
                negative = true
                continue
            }
            guard c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int128(c - UInt8(ascii: "0"))
            digits += 1
            guard value <= limit + (negative ? 1 : 0) else { return nil }
        }
        return last && digits > 0 ? (negative ? -value : value) : nil
    }

    /// Whether this version of a key is older than `other`: change times only move forward
    /// for one path on one source, so the later ctime is the later write.
    public func isOlder(than other: FileVersion) -> Bool {
        (ctimeNanoseconds, mtimeNanoseconds) < (other.ctimeNanoseconds, other.mtimeNanoseconds)
    }
}
