import SoftcopyCore
import SoftcopyHTTP
import SoftcopyIO

/// Fetches one agent's recursive listing of a destination, with checksums: what the
/// coordinator seeds its trackers from at attach, and checks the source against at the end.
enum AgentListingFetch {
    enum Failure: Error, CustomStringConvertible {
        /// No answer: connection refused, reset, timed out.
        case unreachable(String)
        /// An HTTP answer other than 200 or 404.
        case refused(status: Int, message: String)
        /// A 200 whose body is not a listing.
        case malformed(ProtocolError)

        var description: String {
            switch self {
            case .unreachable(let message): "not answering (\(message))"
            case .refused(let status, let message): "\(status) \(message)"
            case .malformed(let error): "sent a listing that does not parse: \(error)"
            }
        }
    }

    /// The files and folders under `destination` on the agent; nil if it has no such folder.
    /// `verify` makes the agent re-read and hash every file instead of trusting its records.
    static func fetch(_ client: HTTPClient, agentURL: String, destination: String, verify: Bool, timeout: Duration) throws(Failure) -> [ListingEntry]? {
        let query = [("destination", destination), ("recursive", "1"), ("checksums", "1")] + (verify ? [("verify", "1")] : [])
        let url = Route.list().url(agentURL, query: query)
        let response: HTTPClientResponse
        do {
            response = try client.request("GET", url, timeout: timeout)
        } catch {
            throw .unreachable(error.message)
        }
        if response.status == 404 { return nil }
        guard response.status == 200 else { throw .refused(status: response.status, message: response.bodyText) }
        // A large listing as the agent writes it is decoded in runs on all cores (a million
        // files are 100 MB of JSON, and the end of the run waits for them).
        let body = response.body
        if body.count >= 1 << 20, let runs = AgentListing.memberRunsAsWritten(body, parts: 4) {
            let parts = Parallel.map(runs.count) { i throws(Never) in AgentListing.decodeMembersAsWritten(body, runs[i], base: .root) }
            .map { $0.get() }
            if parts.allSatisfy({ $0 != nil }) {
                var entries: [ListingEntry] = []
                entries.reserveCapacity(parts.reduce(0) { $0 + ($1?.count ?? 0) })
                for part in parts { entries += part! }
                return entries
            }
        }
        do {
            return try AgentListing.decode(bytes: body, base: .root)
        } catch {
            throw .malformed(error)
        }
    }
}
