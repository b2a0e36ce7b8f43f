public import NIOHTTP1
public import SoftcopyCore

/// The HTTP of a file read by zarr readers (the read view, and `/v1/files`): conditional
/// requests on the XXH3 `ETag`, one byte range (206, or 416 past the end), HEAD, and
/// the CORS headers browser viewers need. Decides what to send; the caller sends it
/// from its disk or from another node.
public enum ReadViewResponse {
    public enum Plan {
        /// An answer without the file's bytes (304, 412, 416).
        case answer(HTTPResponse)
        /// `length` bytes from `offset` with this status (200 or 206) and these headers.
        case send(status: HTTPResponseStatus, offset: UInt64, length: UInt64, headers: HTTPHeaders)
    }

    public static func plan(for request: HTTPRequest, size: UInt64, checksum: Checksum?, cors: Bool) -> Plan {
        var headers = HTTPHeaders()
        if cors { addCORS(&headers) }
        headers.add(name: "accept-ranges", value: "bytes")
        // Chunks change while an acquisition arrives: readers revalidate with the ETag.
        headers.add(name: "cache-control", value: "no-cache")
        let tag = checksum.map(EntityTag.init)
        if let tag { headers.add(name: "etag", value: tag.description) }
        if let tag, let wanted = request.headers.first(name: "if-match"), !tag.matchesIfMatch(wanted) {
            return .answer(.error(.preconditionFailed, "the file is no longer the version \(wanted) (now \(tag))", headers: headers))
        }
        if let tag, let held = request.headers.first(name: "if-none-match"), tag.matchesNoneMatch(held) {
            return .answer(HTTPResponse(status: .notModified, headers: headers))
        }
        let resolution = request.headers.first(name: "range").flatMap(ByteRange.parse).map { $0.resolve(length: size) } ?? .whole
        if let range = ByteRange.contentRange(resolution, total: size) { headers.add(name: "content-range", value: range) }
        switch resolution {
        case .whole:
            headers.add(name: "content-type", value: "application/octet-stream")
            return .send(status: .ok, offset: 0, length: size, headers: headers)
        case .part(let offset, let length):
            headers.add(name: "content-type", value: "application/octet-stream")
            return .send(status: .partialContent, offset: offset, length: length, headers: headers)
        case .unsatisfiable:
            return .answer(.error(.rangeNotSatisfiable, "the range \(request.headers.first(name: "range") ?? "") is beyond the file's \(size) bytes", headers: headers))
        }
    }

    /// Any origin may read (the data is guarded by the token, not by the origin), with a
    /// range and a token, and see the headers a zarr reader uses.
    public static func addCORS(_ headers: inout HTTPHeaders) {
        headers.replaceOrAdd(name: "access-control-allow-origin", value: "*")
        headers.replaceOrAdd(name: "access-control-expose-headers", value: "Content-Range, Content-Length, ETag, Accept-Ranges")
    }

    /// The answer to a CORS preflight (`OPTIONS`), which browsers send without the token.
    public static func preflight() -> HTTPResponse {
        var headers = HTTPHeaders()
        addCORS(&headers)
        headers.add(name: "access-control-allow-methods", value: "GET, HEAD, OPTIONS")
        headers.add(name: "access-control-allow-headers", value: "Range, Authorization, If-None-Match, If-Match")
        headers.add(name: "access-control-max-age", value: "600")
        return HTTPResponse(status: .noContent, headers: headers)
    }
}
