import NIOHTTP1
import SoftcopyHTTP

/// The read view cannot answer for now: 503 with `Retry-After` (or another status for a
/// problem no wait will solve).
struct ViewUnavailable: Error {
    var status: HTTPResponseStatus
    var message: String
    /// The coordinator did not answer in time (it may, asked again); a refused connection
    /// is no reason to wait.
    var timedOut = false

    init(_ status: HTTPResponseStatus, _ message: String) {
        self.status = status
        self.message = message
    }

    static func retry(_ message: String) -> ViewUnavailable {
        ViewUnavailable(.serviceUnavailable, message)
    }

    var response: HTTPResponse {
        var headers = HTTPHeaders()
        if status == .serviceUnavailable { headers.add(name: "retry-after", value: Agent.viewRetryAfter) }
        return .error(status, message, headers: headers)
    }
}
