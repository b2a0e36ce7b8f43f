import SoftcopyIO

/// Blocking clients kept between requests so their connections stay open (libcurl
/// handles: `HTTPClient` for the read view's requests to the coordinator and to other
/// nodes, `S3Client` for an object store): a client is taken by one thread, used, and
/// given back. At most `capacity` are kept idle.
final class ClientPool<Client: AnyObject>: @unchecked Sendable {
    // @unchecked: a client is not Sendable; each one is reached by one thread at a time,
    // taken out of `idle` under the lock and put back once that thread is done.
    private let idle = ConditionLock<[Client]>([])
    private let make: @Sendable () -> Client
    private let capacity: Int

    init(capacity: Int = 32, make: @escaping @Sendable () -> Client) {
        self.make = make
        self.capacity = capacity
    }

    func with<T, E: Error>(_ body: (Client) throws(E) -> T) throws(E) -> T {
        let client = idle.withLock { $0.popLast() } ?? make()
        defer { idle.withLock { if $0.count < capacity { $0.append(client) } } }
        return try body(client)
    }
}
