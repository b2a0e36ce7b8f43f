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
        var index: [Int64] = []
        index.reserveCapacity(rank)
        return visitIndex(forKey: key, rank: rank) { _, value in index.append(value) } ? index : nil
    }

    /// Calls `component` with each dimension and grid index the key names, in order;
    /// false if it is not a well-formed key for `rank` dimensions (some components may
    /// have been visited by then). No array: the end of a run classifies every key.
    public func visitIndex(forKey key: Substring, rank: Int, _ component: (Int, Int64) -> Void) -> Bool {
        // Bytes, not characters or substrings.
        var rest = key.utf8[...]
        switch self {
        case .v2:
            if rank == 0 { return key == "0" }
        case .v3Default:
            if rank == 0 { return key == "c" }
            guard rest.first == UInt8(ascii: "c") else { return false }
            rest = rest.dropFirst()
            guard let s = separator.asciiValue, rest.first == s else { return false }
            rest = rest.dropFirst()
        }
        guard let separator = separator.asciiValue else { return false }
        var dimension = 0
        var value: Int64 = 0, digits = 0
        for c in rest {
            if c == separator {
                guard digits > 0, dimension < rank - 1 else { return false }
                component(dimension, value)
                dimension += 1
                value = 0
                digits = 0
                continue
            }
            guard c >= 0x30, c <= 0x39 else { return false }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(Int64(c - 0x30))
            guard !o1, !o2 else { return false }
            value = sum
            digits += 1
        }
        guard digits > 0, dimension == rank - 1 else { return false }
        component(dimension, value)
        return true
    }

    public var description: String {
        switch self {
        case .v2(let s): "v2 '\(s)'"
        case .v3Default(let s): "default '\(s)'"
        }
    }
}
