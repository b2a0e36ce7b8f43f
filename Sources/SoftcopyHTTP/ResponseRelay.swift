public import NIOHTTP1

/// A download passed on as the answer to a request (the read view's pass-through from
/// another node, a bucket's object): `begin` answers with the head once the download's
/// own head is acceptable, `write` forwards each piece, and `finish` ends the body, whole
/// only when every announced byte went through, else cut. One per download, on the
/// thread that runs it.
public final class ResponseRelay {
    private let status: HTTPResponseStatus
    private let headers: HTTPHeaders
    private let length: UInt64
    private let respond: (HTTPResponse) -> Void
    private var stream: ResponseStream?
    private var sent: UInt64 = 0

    public init(status: HTTPResponseStatus, headers: HTTPHeaders, length: UInt64, respond: @escaping (HTTPResponse) -> Void) {
        self.status = status
        self.headers = headers
        self.length = length
        self.respond = respond
    }

    /// Answers the request; from now on the body is this download's.
    public func begin() {
        let s = ResponseStream()
        stream = s
        respond(HTTPResponse(status: status, headers: headers, body: .stream(s, length: Int(length))))
    }

    /// The answer was given.
    public var began: Bool { stream != nil }

    /// Forwards a piece; false when there is no answer yet or its reader is gone.
    public func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
        sent += UInt64(bytes.count)
        return stream?.write(bytes) ?? false
    }

    /// The download is over (`succeeded`: it ended without an error).
    public func finish(succeeded: Bool) {
        stream?.finish(complete: succeeded && sent == length)
    }
}
