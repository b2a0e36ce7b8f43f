/// A request that did not get an HTTP answer (connection refused or reset, timeout,
/// a body cut short), or that the caller's sink refused. Carries libcurl's code and words.
public struct HTTPClientError: Error, Sendable, CustomStringConvertible {
    public var code: Int
    public var message: String
    public var url: String
    /// The caller's sink stopped the transfer (its own error is the cause).
    public var abortedByCaller: Bool

    public init(code: Int, message: String, url: String, abortedByCaller: Bool = false) {
        self.code = code
        self.message = message
        self.url = url
        self.abortedByCaller = abortedByCaller
    }

    public var description: String { "\(url): \(message)" }

    /// 7 = could not connect: the peer is not there at all (as opposed to slow).
    public var isConnectionRefused: Bool { code == 7 }
}
