/// A request that did not get an HTTP answer (connection refused or reset, timeout,
/// a body cut short), or that the caller's sink refused. Carries libcurl's code and words.
public struct HTTPClientError: Error, Sendable, CustomStringConvertible {
    public var code: Int
    public var message: String
    public var url: String
    /// The caller's sink stopped the transfer (its own error is the cause).
    public var abortedByCaller: Bool

    /// The request ran out of its time (CURLE_OPERATION_TIMEDOUT).
    public var isTimeout: Bool { code == 28 }

    public init(code: Int, message: String, url: String, abortedByCaller: Bool = false) {
        self.code = code
        self.message = message
        self.url = url
        self.abortedByCaller = abortedByCaller
    }

    public var description: String { "\(url): \(message)" }

    /// 7 = could not connect: the peer is not there at all (as opposed to slow).
    public var isConnectionRefused: Bool { code == 7 }

    /// The TLS handshake failed or the peer's certificate did not verify (libcurl's
    /// SSL_CONNECT_ERROR 35, SSL_CERTPROBLEM 58, SSL_CIPHER 59, PEER_FAILED_VERIFICATION 60,
    /// SSL_CACERT_BADFILE 77, SSL_ISSUER_ERROR 83): a setup problem, not a flaky network.
    public var isTLSProblem: Bool { [35, 58, 59, 60, 77, 83].contains(code) }
}
