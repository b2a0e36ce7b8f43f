/// Where an agent's objects go: `s3://BUCKET/PREFIX`. Each zarr key of a destination
/// becomes the object `PREFIX/DESTINATION/KEY`, so readers open the copy in the bucket.
public struct S3Location: Sendable, Equatable, CustomStringConvertible {
    public var bucket: String
    /// Without leading or trailing `/`; empty for the bucket's root.
    public var prefix: String

    public init(bucket: String, prefix: String) {
        self.bucket = bucket
        self.prefix = prefix
    }

    /// Parses `s3://BUCKET` or `s3://BUCKET/PREFIX`, naming what is wrong.
    public init(parsing text: String) throws(ConfigMessage) {
        guard text.hasPrefix("s3://") else { throw ConfigMessage("'\(text)' is not an s3:// location (s3://BUCKET/PREFIX)") }
        let rest = text.dropFirst("s3://".count)
        let bucket = String(rest.prefix { $0 != "/" })
        let prefix = rest.dropFirst(bucket.count).split(separator: "/", omittingEmptySubsequences: true).joined(separator: "/")
        // The rules S3 and its peers share for a bucket name (DNS-compatible).
        let allowed = bucket.utf8.allSatisfy { c in (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x2E || c == 0x2D }
        guard (3...63).contains(bucket.utf8.count), allowed, let first = bucket.utf8.first, let last = bucket.utf8.last,
              first != 0x2E && first != 0x2D, last != 0x2E && last != 0x2D else {
            throw ConfigMessage("'\(bucket)' in '\(text)' is not a bucket name: 3 to 63 lower-case letters, digits, '.' or '-', starting and ending with a letter or digit")
        }
        guard !prefix.split(separator: "/").contains(where: { $0 == "." || $0 == ".." }) else {
            throw ConfigMessage("the prefix of '\(text)' may not contain '.' or '..' components")
        }
        self.init(bucket: bucket, prefix: prefix)
    }

    /// The object name of `key` under `destination` (both relative).
    public func objectName(destination: String, key: String) -> String {
        [prefix, destination, key].filter { !$0.isEmpty }.joined(separator: "/")
    }

    public var description: String { "s3://\(bucket)" + (prefix.isEmpty ? "" : "/\(prefix)") }
}
