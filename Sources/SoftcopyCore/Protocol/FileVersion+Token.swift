extension FileVersion {
    /// The version as one header-safe token, `inode:size:mtime_ns:ctime_ns`.
    public var token: String {
        "\(inode):\(size):\(mtimeNanoseconds):\(ctimeNanoseconds)"
    }

    /// The token appended to `out` as bytes (listings write one per file).
    public func appendToken(to out: inout [UInt8]) {
        JSONBytes.appendDecimal(inode, to: &out)
        out.append(UInt8(ascii: ":"))
        JSONBytes.appendDecimal(size, to: &out)
        out.append(UInt8(ascii: ":"))
        JSONBytes.appendDecimal(mtimeNanoseconds, to: &out)
        out.append(UInt8(ascii: ":"))
        JSONBytes.appendDecimal(ctimeNanoseconds, to: &out)
    }

    public init?(token: some StringProtocol) {
        var token = String(token)
        guard let version = token.withUTF8({ FileVersion(tokenUTF8: $0) }) else { return nil }
        self = version
    }

    /// One pass over the bytes, no substrings, iterators or wide integers: listings and
    /// records of a million files parse one token per file. Not generic, so it is
    /// compiled once for these bytes, not left to witness tables.
    public init?(tokenUTF8 b: UnsafeBufferPointer<UInt8>) {
        var i = 0
        guard let inode = Self.unsigned(b, &i), Self.colon(b, &i), let size = Self.unsigned(b, &i), Self.colon(b, &i),
              let mtime = Self.signed(b, &i), Self.colon(b, &i), let ctime = Self.signed(b, &i), i == b.count else { return nil }
        self.init(inode: inode, size: size, mtimeNanoseconds: mtime, ctimeNanoseconds: ctime)
    }

    private static func colon(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int) -> Bool {
        guard i < b.count, b[i] == UInt8(ascii: ":") else { return false }
        i += 1
        return true
    }

    /// At least one decimal digit, without overflow.
    private static func unsigned(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int) -> UInt64? {
        let start = i
        var value: UInt64 = 0
        while i < b.count {
            let digit = b[i] &- UInt8(ascii: "0")
            if digit > 9 { break }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(digit))
            guard !o1, !o2 else { return nil }
            value = sum
            i += 1
        }
        return i > start ? value : nil
    }

    private static func signed(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int) -> Int64? {
        let negative = i < b.count && b[i] == UInt8(ascii: "-")
        if negative { i += 1 }
        guard let magnitude = unsigned(b, &i) else { return nil }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return Int64(truncatingIfNeeded: 0 &- magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return Int64(magnitude)
    }

    /// Whether this version of a key is older than `other`: change times only move forward
    /// for one path on one source, so the later ctime is the later write.
    public func isOlder(than other: FileVersion) -> Bool {
        (ctimeNanoseconds, mtimeNanoseconds) < (other.ctimeNanoseconds, other.mtimeNanoseconds)
    }
}
