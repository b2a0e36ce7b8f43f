/// Lexical path handling for configuration: no filesystem access, so it is pure and
/// testable. Symlinks are resolved later by the I/O layer, which checks again.
public enum PathNormalizer {
    /// Makes `path` absolute against `base` (expanding a leading `~/` with `home`) and
    /// removes `.`, `..` and doubled slashes.
    public static func absolute(_ path: String, base: String, home: String?) -> String {
        var p = path
        if p == "~" || p.hasPrefix("~/"), let home {
            p = home + String(p.dropFirst())
        }
        if !p.hasPrefix("/") {
            p = base + "/" + p
        }
        return normalize(p)
    }

    /// Removes `.`, `..` and empty components from an absolute path.
    public static func normalize(_ absolutePath: String) -> String {
        var parts: [Substring] = []
        for component in absolutePath.split(separator: "/") {
            switch component {
            case ".": continue
            case "..": if !parts.isEmpty { parts.removeLast() }
            default: parts.append(component)
            }
        }
        return "/" + parts.joined(separator: "/")
    }

    /// True if `inner` is `outer` or lies below it (both normalised).
    public static func isSameOrInside(_ inner: String, _ outer: String) -> Bool {
        // Bytes, not characters: a combining mark after the prefix must not hide a match.
        if inner.utf8.elementsEqual(outer.utf8) || outer == "/" { return true }
        return inner.utf8.starts(with: (outer + "/").utf8)
    }

    /// The last component of a path ("fish1.zarr" of "/data/fish1.zarr/").
    public static func lastComponent(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }

    /// The directory part of an absolute path.
    public static func directory(of path: String) -> String {
        let normalized = normalize(path)
        guard let slash = normalized.lastIndex(of: "/"), slash != normalized.startIndex else { return "/" }
        return String(normalized[..<slash])
    }
}
