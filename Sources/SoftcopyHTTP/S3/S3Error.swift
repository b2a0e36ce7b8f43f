/// A refusal or failure from an S3 server, with the server's own code (`NoSuchBucket`,
/// `SignatureDoesNotMatch`, `BadDigest`, `SlowDown`) where it gave one.
public struct S3Error: Error, Sendable, CustomStringConvertible {
    /// The HTTP status; 0 when no answer came (a refused connection, a reset, a timeout).
    public var status: Int
    public var code: String
    public var message: String
    /// What was asked: `PUT s3://bucket/key`.
    public var request: String

    public init(status: Int, code: String, message: String, request: String) {
        self.status = status
        self.code = code
        self.message = message
        self.request = request
    }

    /// Worth another try with backoff: no answer, 500, 503 and `SlowDown`, 429, or a
    /// request timeout; a refusal (403, 404 `NoSuchBucket`, 400 `BadDigest`) is not.
    public var isTransient: Bool {
        status == 0 || status >= 500 || status == 429 || status == 408 || code == "SlowDown" || code == "RequestTimeout"
    }

    public var description: String {
        let said = [code, message].filter { !$0.isEmpty }.joined(separator: ": ")
        return "\(request): " + (status == 0 ? message : "\(status)\(said.isEmpty ? "" : " \(said)")")
    }
}
