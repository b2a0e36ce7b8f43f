import Glibc
import Logging
import SoftcopyAgent
import SoftcopyCore
import SoftcopyIO

/// A real agent inside the test process: its HTTP API on a loopback port of its own
/// (port 0), its data root in a test folder, no Avahi.
public final class InProcessAgent: Sendable {
    public let root: String
    public let name: String
    public let url: String
    private let agent: Agent

    public init(root: String, name: String, token: String? = nil, reserve: UInt64 = 0, transfers: Int = 2) throws {
        self.root = root
        self.name = name
        _ = mkdir(root, 0o755)
        var configuration = AgentConfiguration(root: root, name: name)
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configuration.advertise = false
        configuration.token = token
        configuration.reserve = reserve
        configuration.transfers = transfers
        agent = try Agent(configuration: configuration, logger: Logger(label: "agent.\(name)") { _ in SwiftLogNoOpLogHandler() })
        url = "http://127.0.0.1:\(try agent.start())"
    }

    /// Stops its jobs (transfers under way finish) and its server, as SIGTERM would.
    public func stop() {
        agent.stop()
    }

    /// The files of one destination under this agent's root, by path (state folder left out).
    public func files(_ destination: String) throws -> [String: [UInt8]] {
        try TreeComparison.files(root + "/" + destination)
    }
}
