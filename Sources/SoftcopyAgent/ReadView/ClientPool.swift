import SoftcopyHTTP
import SoftcopyIO

/// libcurl handles for the read view's own requests (to the coordinator, to the node
/// that holds a key), kept between requests so their connections stay open: a handle is
/// taken by one thread, used, and given back. At most `capacity` are kept idle.
final class ClientPool: @unchecked Sendable {
    // @unchecked: an HTTPClient is not Sendable; each one is reached by one thread at a
    // time, taken out of `idle` under the lock and put back once that thread is done.
    private let idle = ConditionLock<[HTTPClient]>([])
    private let token: String?
    private let caFile: String?
    private let capacity: Int

    init(token: String?, caFile: String?, capacity: Int = 32) {
        self.token = token
        self.caFile = caFile
        self.capacity = capacity
    }

    func with<T>(_ body: (HTTPClient) throws -> T) rethrows -> T {
        let client = idle.withLock { $0.popLast() } ?? HTTPClient(token: token, caFile: caFile)
        defer { idle.withLock { if $0.count < capacity { $0.append(client) } } }
        return try body(client)
    }
}
