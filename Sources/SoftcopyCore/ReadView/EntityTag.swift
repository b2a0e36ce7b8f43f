/// A file's strong `ETag` in the read view: its XXH3-128, the checksum every node verified
/// it with, so every node serving the same bytes gives the same tag (`"xxh3-<32 hex>"`).
public struct EntityTag: Sendable, Hashable, CustomStringConvertible {
    public let checksum: Checksum

    public init(_ checksum: Checksum) {
        self.checksum = checksum
    }

    /// The header value, quoted.
    public var description: String { "\"xxh3-\(checksum.hex)\"" }

    /// `If-None-Match` (RFC 9110 §13.1.2): true when the reader's copy is current, so the
    /// answer is 304 for a GET or HEAD. Weak comparison: `W/` is ignored.
    public func matchesNoneMatch(_ header: String) -> Bool {
        Self.tags(header).contains { $0 == "*" || Self.opaque($0) == description }
    }

    /// `If-Match` (RFC 9110 §13.1.1): false means 412. Strong comparison: a weak tag never matches.
    public func matchesIfMatch(_ header: String) -> Bool {
        Self.tags(header).contains { $0 == "*" || $0 == description }
    }

    private static func tags(_ header: String) -> [String] {
        header.split(separator: ",").map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
    }

    private static func opaque(_ tag: String) -> String {
        tag.hasPrefix("W/") ? String(tag.dropFirst(2)) : tag
    }
}
