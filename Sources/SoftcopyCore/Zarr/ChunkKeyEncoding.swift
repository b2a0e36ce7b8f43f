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
        let parts = rest.split(separator: separator, omittingEmptySubsequences: false)
        guard parts.count == rank else { return nil }
        var index: [Int64] = []
        index.reserveCapacity(rank)
        for part in parts {
            guard !part.isEmpty, part.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let value = Int64(part) else {
                return nil
            }
            index.append(value)
        }
        return index
    }

    public var description: String {
        switch self {
        case .v2(let s): "v2 '\(s)'"
        case .v3Default(let s): "default '\(s)'"
        }
    }
}
