/// A path inside an archive, relative to its root, with `/` separators.
///
/// Validation is the first line of defence against writing outside a root: no absolute
/// paths, no `.` or `..` components, no empty components and no NUL bytes. The empty
/// path names the root directory itself.
///
/// A path is bytes (`PathBytes` says how a name that is not UTF-8 is held in `string`):
/// two paths are equal, hash and sort by their bytes, never by Unicode equivalence, under
/// which `café` written with a combining accent and `café` with a precomposed one would be
/// one file, and one of two real files would be lost.
public struct RelativePath: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let string: String

    public static let root = RelativePath(unchecked: "")

    /// Longest accepted path and component, in UTF-8 bytes (Linux PATH_MAX and NAME_MAX).
    public static let maximumLength = 4095
    public static let maximumComponentLength = 255

    public enum ValidationError: Error, Equatable, CustomStringConvertible {
        case absolute
        case emptyComponent
        case dotComponent(String)
        case nulByte
        case tooLong(Int)
        case componentTooLong(String)

        public var description: String {
            switch self {
            case .absolute: "an absolute path is not allowed"
            case .emptyComponent: "empty path component (a doubled or trailing '/')"
            case .dotComponent(let c): "path component '\(c)' is not allowed"
            case .nulByte: "NUL byte in path"
            case .tooLong(let n): "path is \(n) bytes long, longer than \(RelativePath.maximumLength)"
            case .componentTooLong(let c): "path component '\(c.prefix(40))…' is longer than \(RelativePath.maximumComponentLength) bytes"
            }
        }
    }

    /// Skips validation: only for strings built from components that were validated.
    public init(unchecked string: String) {
        self.string = string
    }

    public init(validating text: String) throws(ValidationError) {
        if text.isEmpty {
            self.string = text
            return
        }
        // Escapes are checked as the bytes they stand for (a name of 255 escaped bytes is
        // NAME_MAX long, not 1020), and kept in their one canonical form.
        let string = PathBytes.canonical(text)
        let problem: ValidationError?
        if PathBytes.isEncoded(string) {
            problem = PathBytes.bytes(of: string).withUnsafeBufferPointer(Self.problem(in:))
        } else {
            var copy = string
            problem = copy.withUTF8(Self.problem(in:))
        }
        if let problem { throw problem }
        self.string = string
    }

    /// One pass over the bytes, no substrings: every path of an agent's listing (millions)
    /// is validated here.
    private static func problem(in bytes: UnsafeBufferPointer<UInt8>) -> ValidationError? {
        if bytes.count > maximumLength { return .tooLong(bytes.count) }
        if bytes.first == UInt8(ascii: "/") { return .absolute }
        if bytes.contains(0) { return .nulByte }
        var start = 0
        for end in 0...bytes.count where end == bytes.count || bytes[end] == UInt8(ascii: "/") {
            let length = end - start
            if length == 0 { return .emptyComponent }
            if length <= 2, bytes[start] == UInt8(ascii: "."), length == 1 || bytes[start + 1] == UInt8(ascii: ".") {
                return .dotComponent(PathBytes.display(PathBytes.string(from: UnsafeBufferPointer(rebasing: bytes[start..<end]))))
            }
            if length > maximumComponentLength {
                return .componentTooLong(PathBytes.display(PathBytes.string(from: UnsafeBufferPointer(rebasing: bytes[start..<end]))))
            }
            start = end + 1
        }
        return nil
    }

    public var isRoot: Bool { string.isEmpty }

    /// The last `/`, found in the bytes: as a Character, a `/` followed by a combining mark
    /// is not "/".
    private var lastSlash: String.Index? { string.utf8.lastIndex(of: UInt8(ascii: "/")) }

    /// The last component; empty for the root.
    public var name: Substring {
        guard let slash = lastSlash else { return string[...] }
        return Substring(string.utf8[string.utf8.index(after: slash)...])
    }

    /// The directory holding this path; the root for a top-level name, nil for the root.
    public var parent: RelativePath? {
        if isRoot { return nil }
        guard let slash = lastSlash else { return .root }
        return RelativePath(unchecked: String(Substring(string.utf8[..<slash])))
    }

    public var components: [Substring] {
        isRoot ? [] : string.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).map { Substring($0) }
    }

    /// Appends one component that the caller has checked (a directory entry name).
    public func appending(component name: String) -> RelativePath {
        RelativePath(unchecked: isRoot ? name : string + "/" + name)
    }

    /// Appends a relative path.
    public func appending(_ other: RelativePath) -> RelativePath {
        if other.isRoot { return self }
        if isRoot { return other }
        return RelativePath(unchecked: string + "/" + other.string)
    }

    /// True if `self` is `directory` or lies below it.
    public func isInside(_ directory: RelativePath) -> Bool {
        if directory.isRoot { return true }
        // Bytes, not characters: a combining mark after the prefix must not hide a match.
        guard string.utf8.starts(with: directory.string.utf8) else { return false }
        let rest = string.utf8.dropFirst(directory.string.utf8.count)
        return rest.isEmpty || rest.first == UInt8(ascii: "/")
    }

    /// The part of `self` below `directory`, if it is inside it.
    public func relative(to directory: RelativePath) -> RelativePath? {
        guard isInside(directory) else { return nil }
        if directory.isRoot { return self }
        let rest = string.utf8.dropFirst(directory.string.utf8.count)
        return RelativePath(unchecked: String(decoding: rest.dropFirst(), as: UTF8.self))
    }

    /// Byte order (for valid UTF-8, the order of code points).
    public static func < (lhs: RelativePath, rhs: RelativePath) -> Bool {
        let (a, b) = (lhs.string.utf8, rhs.string.utf8)
        return a.withContiguousStorageIfAvailable { x in
            b.withContiguousStorageIfAvailable { y in compare(x, y) < 0 }
        }.flatMap { $0 } ?? a.lexicographicallyPrecedes(b)
    }

    /// Byte equality. Eight bytes at a time: the tracker's index and every listing compare
    /// paths this way a million times, and a byte loop cost a third more than String's
    /// own `==` (which would call NFC and NFD twins equal).
    public static func == (lhs: RelativePath, rhs: RelativePath) -> Bool {
        let (a, b) = (lhs.string.utf8, rhs.string.utf8)
        guard a.count == b.count else { return false }
        return a.withContiguousStorageIfAvailable { x in
            b.withContiguousStorageIfAvailable { y in x.baseAddress == y.baseAddress || compare(x, y) == 0 }
        }.flatMap { $0 } ?? a.elementsEqual(b)
    }

    /// -1, 0 or 1 as `x` sorts before, with or after `y` (bytes, a shorter prefix first).
    private static func compare(_ x: UnsafeBufferPointer<UInt8>, _ y: UnsafeBufferPointer<UInt8>) -> Int {
        let n = min(x.count, y.count)
        var i = 0
        if n >= 8 {
            let (p, q) = (UnsafeRawPointer(x.baseAddress!), UnsafeRawPointer(y.baseAddress!))
            while i + 8 <= n {
                let (u, v) = (p.loadUnaligned(fromByteOffset: i, as: UInt64.self), q.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                if u != v { return UInt64(bigEndian: u) < UInt64(bigEndian: v) ? -1 : 1 }
                i += 8
            }
        }
        while i < n {
            if x[i] != y[i] { return x[i] < y[i] ? -1 : 1 }
            i += 1
        }
        return x.count == y.count ? 0 : (x.count < y.count ? -1 : 1)
    }

    public func hash(into hasher: inout Hasher) {
        let utf8 = string.utf8
        if utf8.withContiguousStorageIfAvailable({ hasher.combine(bytes: UnsafeRawBufferPointer($0)) }) == nil {
            for b in utf8 { hasher.combine(b) }
        }
    }

    /// For people: a byte that is not UTF-8 shows as `\xNN`.
    public var description: String { isRoot ? "." : PathBytes.display(string) }
}
