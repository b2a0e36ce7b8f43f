/// What a request got back. Header names are lower-cased; trailers (sent after a
/// chunked body) are in `headers` too, as libcurl reports them.
public struct HTTPClientResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    /// The body, unless it went to a sink (then only an error body is kept here).
    public var body: [UInt8]
    /// Body bytes received in all.
    public var bodyBytes: UInt64
    /// Seconds from the answer's first byte to its last: how long the body took on the
    /// wire (`LinkMeter`), without the time the server took to start answering.
    public var bodySeconds: Double = 0

    public func header(_ name: String) -> String? {
        Self.header(name, in: headers)
    }

    /// A header's value among lower-cased names, the last if repeated: the same lookup
    /// for a finished response and for the headers an `onHead` callback sees.
    public static func header(_ name: String, in headers: [(name: String, value: String)]) -> String? {
        let lower = name.lowercased()
        return headers.last(where: { $0.name == lower })?.value
    }

    /// The body as text, for error messages (`{"error": ...}` bodies say why).
    public var bodyText: String {
        String(decoding: body.prefix(4096), as: UTF8.self)
    }
}
