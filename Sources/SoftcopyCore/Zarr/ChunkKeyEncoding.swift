/// How a chunk's grid index becomes a file key inside its array's directory.
public enum ChunkKeyEncoding: Sendable, Hashable, CustomStringConvertible {
    /// zarr v2, and v3's `v2` encoding: `1.2.3` (or `1/2/3`); a 0-d array's key is `0`.
    case v2(separator: Character)
    /// zarr v3's `default` encoding: `c/1/2/3` (or `c.1.2.3`); a 0-d array's key is `c`.
    case v3Default(separator: Character)

    public var separator: Character {
        switch self {
        case .v2(let s), .v3Default(let s): s
        }
    }

    public func key(for index: [Int64]) -> String {
        let sep = String(separator)
        switch self {
        case .v2:
            return index.isEmpty ? "0" : index.map(String.init).joined(separator: sep)
        case .v3Default:
            return index.isEmpty ? "c" : "c" + sep + index.map(String.init).joined(separator: sep)
        }
    }

    /// The grid index a key names, if it is a well-formed key for an array of `rank` dimensions.
    public func index(forKey key: Substring, rank: Int) -> [Int64]? {
        var rest = key
        switch self {
        case .v2:
            if rank == 0 { return rest == "0" ? [] : nil }
        case .v3Default:
            if rank == 0 { return rest == "c" ? [] : nil }
            guard rest.hasPrefix("c"), rest.dropFirst().first == separator else { return nil }
            rest = rest.dropFirst(2)
        }
        // Bytes, not substrings: the end of a run classifies every key of the archive.
        guard let separator = separator.asciiValue else { return nil }
        var index: [Int64] = []
        index.reserveCapacity(rank)
        var value: Int64 = 0, digits = 0
        for c in rest.utf8 {
            if c == separator {
                guard digits > 0, index.count < rank - 1 else { return nil }
                index.append(value)
                value = 0
                digits = 0
                continue
            }
            guard c >= 0x30, c <= 0x39 else { return nil }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(Int64(c - 0x30))
            guard !o1, !o2 else { return nil }
            value = sum
            digits += 1
        }
        guard digits > 0, index.count == rank - 1 else { return nil }
        index.append(value)
        return index
    }

    public var description: String {
        switch self {
        case .v2(let s): "v2 '\(s)'"
        case .v3Default(let s): "default '\(s)'"
        }
    }
}
