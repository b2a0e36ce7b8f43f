/// A path inside an archive, relative to its root, with `/` separators.
///
/// Validation is the first line of defence against writing outside a root: no absolute
/// paths, no `.` or `..` components, no empty components and no NUL bytes. The empty
/// path names the root directory itself.
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

    public init(validating string: String) throws(ValidationError) {
        if string.isEmpty {
            self.string = string
            return
        }
        var copy = string
        if let problem = copy.withUTF8(Self.problem(in:)) { throw problem }
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
                return .dotComponent(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self))
            }
            if length > maximumComponentLength {
                return .componentTooLong(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self))
            }
            start = end + 1
        }
        return nil
    }

    public var isRoot: Bool { string.isEmpty }

    /// The last component; empty for the root.
    public var name: Substring {
        guard let slash = string.lastIndex(of: "/") else { return string[...] }
        return string[string.index(after: slash)...]
    }

    /// The directory holding this path; the root for a top-level name, nil for the root.
    public var parent: RelativePath? {
        if isRoot { return nil }
        guard let slash = string.lastIndex(of: "/") else { return .root }
        return RelativePath(unchecked: String(string[..<slash]))
    }

    public var components: [Substring] {
        isRoot ? [] : string.split(separator: "/", omittingEmptySubsequences: false)
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
        guard string.hasPrefix(directory.string) else { return false }
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

    public static func < (lhs: RelativePath, rhs: RelativePath) -> Bool {
        lhs.string < rhs.string
    }

    public var description: String { isRoot ? "." : string }
}
