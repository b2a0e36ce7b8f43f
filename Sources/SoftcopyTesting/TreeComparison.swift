public import SoftcopyCore
import SoftcopyIO

/// Compares two folder trees byte for byte: the check every copy test ends with.
public enum TreeComparison {
    /// Regular files under `root` by relative path, leaving out writer temp files and
    /// softcopy's own `.softcopy/` state folder. A path's bytes from 0x80 are spelled
    /// `\xNN`: the keys are then as distinct as the names on disk (as Strings, `café` with
    /// a combining accent and with a precomposed one would be one key).
    public static func files(_ root: String) throws -> [String: [UInt8]] {
        var result: [String: [UInt8]] = [:]
        guard (try FileStatus.of(root, followingLinks: true))?.kind == .directory else { return [:] }
        try DestinationTree(root: root, create: false).walk { path, entry throws(SystemError) in
            switch entry.kind {
            case .directory:
                return !(path.parent == .root && entry.name == ZarrNaming.stateDirectoryName)
            case .regular where !ZarrNaming.isTemporary(name: entry.name):
                result[key(path)] = try readSmallFile(root + "/" + path.string, limit: Int.max)
                return false
            default:
                return false
            }
        }
        return result
    }

    /// A path as an ASCII key: bytes from 0x80 as `\xNN`.
    public static func key(_ path: RelativePath) -> String {
        PathBytes.bytes(of: path.string).map { $0 < 0x80 ? String(UnicodeScalar($0)) : "\\x" + String($0, radix: 16, uppercase: true) }.joined()
    }

    /// Human-readable differences; empty when the trees hold the same files and bytes.
    public static func differences(source: String, destination: String) throws -> [String] {
        let a = try files(source)
        let b = try files(destination)
        var out: [String] = []
        for key in a.keys.sorted() {
            guard let other = b[key] else {
                out.append("missing at the destination: \(key)")
                continue
            }
            if other != a[key] { out.append("different bytes: \(key) (\(a[key]!.count) vs \(other.count) bytes)") }
        }
        for key in b.keys.sorted() where a[key] == nil {
            out.append("only at the destination: \(key)")
        }
        return out
    }

    /// The same for a copy spread over several agents' roots: each source file must be
    /// on at least one of them, byte for byte, and no agent may hold a real-named file
    /// whose bytes the source never had (a partial or stale file).
    public static func unionDifferences(source: String, destinations: [String]) throws -> [String] {
        let a = try files(source)
        let copies = try destinations.map { try files($0) }
        var out: [String] = []
        for key in a.keys.sorted() where !copies.contains(where: { $0[key] == a[key] }) {
            out.append(copies.contains(where: { $0[key] != nil }) ? "different bytes on every agent: \(key)" : "missing on every agent: \(key)")
        }
        for (n, copy) in copies.enumerated() {
            for key in copy.keys.sorted() where a[key] == nil || a[key] != copy[key] {
                out.append("agent \(n + 1) holds \(key) that the source does not have with these bytes")
            }
        }
        return out
    }
}
