public import NIOCore
public import NIOHTTP1
public import SoftcopyCore

/// A response: a status, headers, and a body that is bytes in memory or a region of an
/// open file (sent with sendfile, no copy through user space).
public struct HTTPResponse: Sendable {
    public enum Body: Sendable {
        case empty
        case bytes(ByteBuffer)
        /// The handle is closed once the response is written.
        case file(NIOFileHandle, offset: Int, length: Int)
        /// `length` bytes written by another thread as they arrive (`ResponseStream`).
        case stream(ResponseStream, length: Int)
    }

    public var status: HTTPResponseStatus
    public var headers: HTTPHeaders
    public var body: Body

    public init(status: HTTPResponseStatus, headers: HTTPHeaders = HTTPHeaders(), body: Body = .empty) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public static func json(_ value: JSONValue, status: HTTPResponseStatus = .ok, headers: HTTPHeaders = HTTPHeaders()) -> HTTPResponse {
        json(text: value.serialized(), status: status, headers: headers)
    }

    /// JSON already written as text (large listings skip the JSONValue tree).
    public static func json(text: String, status: HTTPResponseStatus = .ok, headers: HTTPHeaders = HTTPHeaders()) -> HTTPResponse {
        json(bytes: Array(text.utf8), status: status, headers: headers)
    }

    /// JSON already written as bytes.
    public static func json(bytes: [UInt8], status: HTTPResponseStatus = .ok, headers: HTTPHeaders = HTTPHeaders()) -> HTTPResponse {
        json(pieces: [bytes], status: status, headers: headers)
    }

    /// JSON written in pieces, joined here (a listing of a million files is written on
    /// all cores; joining it twice would cost another 100 MB).
    public static func json(pieces: [[UInt8]], status: HTTPResponseStatus = .ok, headers: HTTPHeaders = HTTPHeaders()) -> HTTPResponse {
        var headers = headers
        headers.replaceOrAdd(name: "content-type", value: "application/json")
        var buffer = ByteBuffer()
        buffer.reserveCapacity(pieces.reduce(1) { $0 + $1.count })
        for piece in pieces { buffer.writeBytes(piece) }
        buffer.writeInteger(UInt8(ascii: "\n"))
        return HTTPResponse(status: status, headers: headers, body: .bytes(buffer))
    }

    /// The Prometheus text format (`GET /metrics`).
    public static func metrics(_ families: [MetricFamily]) -> HTTPResponse {
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: "content-type", value: MetricsExposition.contentType)
        var buffer = ByteBuffer()
        buffer.writeBytes(MetricsExposition.text(families))
        return HTTPResponse(status: .ok, headers: headers, body: .bytes(buffer))
    }

    /// A file of the dashboard: no script but its own, no frame, no sniffing (a file
    /// name shown on the page can never become markup or code).
    public static func asset(_ text: String, contentType: String) -> HTTPResponse {
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: "content-type", value: contentType)
        headers.replaceOrAdd(name: "content-security-policy",
                             value: "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
        headers.replaceOrAdd(name: "x-content-type-options", value: "nosniff")
        headers.replaceOrAdd(name: "referrer-policy", value: "no-referrer")
        headers.replaceOrAdd(name: "cache-control", value: "no-cache")
        var buffer = ByteBuffer()
        buffer.writeString(text)
        return HTTPResponse(status: .ok, headers: headers, body: .bytes(buffer))
    }

    /// An error as JSON, `{"error": message}`: every refusal says what was wrong.
    public static func error(_ status: HTTPResponseStatus, _ message: String, headers: HTTPHeaders = HTTPHeaders()) -> HTTPResponse {
        json(.object([("error", .string(message)), ("status", .integer(Int(status.code)))]), status: status, headers: headers)
    }
}
