/// One byte range of an HTTP `Range` header (RFC 9110 §14.1.2), as zarr readers send them:
/// `bytes=FIRST-LAST`, `bytes=FIRST-` and `bytes=-SUFFIX` (zarr v3 reads a shard's index
/// with a suffix range). A header that is not one such range (another unit, several
/// ranges, a malformed one) is not a `ByteRange`: RFC 9110 lets a server ignore it and
/// answer the whole file with 200, which every reader handles.
public enum ByteRange: Sendable, Equatable {
    /// `FIRST-LAST` (inclusive) or `FIRST-` (to the end).
    case from(UInt64, through: UInt64?)
    /// The last N bytes.
    case suffix(UInt64)

    /// How a range applies to a file of a given length.
    public enum Resolution: Sendable, Equatable {
        /// 200 with the whole file.
        case whole
        /// 206 with `Content-Range: bytes OFFSET-(OFFSET+LENGTH-1)/TOTAL`.
        case part(offset: UInt64, length: UInt64)
        /// 416 with `Content-Range: bytes */TOTAL`.
        case unsatisfiable
    }

    /// The range a `Range` header value names, or nil to answer the whole file.
    public static func parse(_ header: String) -> ByteRange? {
        let text = header.trimmingWhitespace()
        guard text.lowercased().hasPrefix("bytes=") else { return nil }
        let spec = text.dropFirst("bytes=".count).trimmingWhitespace()
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { return nil }
        let first = spec[..<dash].trimmingWhitespace(), last = spec[spec.index(after: dash)...].trimmingWhitespace()
        let digits = { (s: String) in !s.isEmpty && s.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") } }
        if first.isEmpty {
            guard digits(last), let n = UInt64(last) else { return nil }
            return .suffix(n)
        }
        guard digits(first), let a = UInt64(first) else { return nil }
        if last.isEmpty { return .from(a, through: nil) }
        guard digits(last), let b = UInt64(last), b >= a else { return nil }
        return .from(a, through: b)
    }

    /// The part of a file of `length` bytes this range names.
    public func resolve(length: UInt64) -> Resolution {
        switch self {
        case .from(let first, let last):
            guard first < length else { return .unsatisfiable }
            let end = min(last ?? (length - 1), length - 1)
            return .part(offset: first, length: end - first + 1)
        case .suffix(let n):
            guard n > 0, length > 0 else { return .unsatisfiable }
            let take = min(n, length)
            return .part(offset: length - take, length: take)
        }
    }

    /// `Content-Range` of an answer: `bytes A-B/TOTAL`, or `bytes */TOTAL` for a 416.
    public static func contentRange(_ resolution: Resolution, total: UInt64) -> String? {
        switch resolution {
        case .whole: nil
        case .part(let offset, let length): "bytes \(offset)-\(offset + length - 1)/\(total)"
        case .unsatisfiable: "bytes */\(total)"
        }
    }
}
