import Logging
import Synchronization
import SoftcopyCore
import SoftcopyDiscovery
import SoftcopyIO

/// Advertises the agent as `_softcopy._tcp` through avahi-daemon, with a TXT record that
/// a coordinator reads before it even connects: the protocol version, the node's name,
/// its free and total bytes (refreshed while it runs), and whether a token is required.
final class AgentAdvertiser: Sendable {
    static let serviceType = "_softcopy._tcp"
    /// How often the free space is looked at; the record changes only when it moved.
    static let refreshInterval: Duration = .seconds(2)

    private let publisher: ServicePublisher
    private let configuration: AgentConfiguration
    private let wake = ConditionLock()
    private let stopping = Atomic(false)
    private let thread = Mutex<OSThread?>(nil)
    /// Free and total bytes where the agent writes (it checks its root on the way).
    private let space: @Sendable () -> (free: UInt64, total: UInt64)

    init(configuration: AgentConfiguration, port: Int, logger: Logger, space: @escaping @Sendable () -> (free: UInt64, total: UInt64)) throws(DiscoveryError) {
        self.configuration = configuration
        self.space = space
        publisher = try ServicePublisher(
            name: configuration.name, type: Self.serviceType, port: UInt16(port),
            txt: Self.record(configuration, space: space()), logger: logger)
        thread.withLock { $0 = OSThread(name: "sc-advertise") { [self] in refresh() } }
    }

    func stop() {
        wake.withLock {
            stopping.store(true, ordering: .releasing)
            wake.broadcast()
        }
        thread.withLock { $0 }?.join()
        publisher.stop()
    }

    /// TXT keys (docs/cluster.md): api, node, free, total, token, tls, softcopy.
    static func record(_ configuration: AgentConfiguration, space: (free: UInt64, total: UInt64)) -> [String: String] {
        [
            "txtvers": "1", "api": "1", "node": configuration.name,
            "free": String(space.free), "total": String(space.total),
            "token": configuration.token == nil ? "no" : "yes", "tls": configuration.tlsCertificate == nil ? "no" : "yes",
            "softcopy": SoftcopyVersion.string,
        ]
    }

    /// Republishes the record when free space moved by more than 0.1% of the disk (at
    /// least 16 MiB): current enough to place work, without flooding the network.
    private func refresh() {
        var published = space()
        while true {
            let stop = wake.withLock { () -> Bool in
                if !stopping.load(ordering: .acquiring) { wake.wait(until: Clock.now() + Self.refreshInterval) }
                return stopping.load(ordering: .acquiring)
            }
            if stop { return }
            let now = space()
            let step = max(now.total / 1000, 16 << 20)
            let moved = now.free > published.free ? now.free - published.free : published.free - now.free
            if moved >= step || now.total != published.total {
                publisher.update(txt: Self.record(configuration, space: now))
                published = now
            }
        }
    }
}
