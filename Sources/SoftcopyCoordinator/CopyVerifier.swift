import Glibc
import Logging
public import SoftcopyCore
import SoftcopyDiscovery
import SoftcopyHTTP
import SoftcopyIO

/// `softcopy-coordinator verify TARGETS_FILE`: re-checks finished copies on demand. Every
/// source file is read and hashed; every node holding the copy (the local destination if
/// it exists, each agent named or discovered) re-hashes what it holds; the merged
/// listings must hold each file with its exact bytes, `replicas` times. Exit 0 only then.
public final class CopyVerifier {
    let configuration: CoordinatorConfiguration
    let logger: Logger

    /// Problems printed per target before "and N more".
    static let problemsShown = 50

    public init(configuration: CoordinatorConfiguration) {
        self.configuration = configuration
        let console = ConsoleOutput(interactive: false)
        let level: Logger.Level = configuration.verbose ? .debug : .info
        self.logger = Logger(label: "softcopy") { _ in ConsoleLogHandler(output: console, level: level) }
    }

    public func run() -> ExitStatus {
        let settings = configuration.settings
        let token: String?
        do {
            token = try TokenFile.read(optional: settings.tokenFile)
        } catch {
            logger.error("\(error)")
            return .usage
        }
        var agents = (settings.agents ?? []).map { (url: $0, name: $0) }
        if settings.discovery ?? true {
            let discovery = AgentDiscovery(haveToken: token != nil, logger: logger)
            let found = discovery.waitForAgents(within: settings.discoveryWait ?? Coordinator.defaultDiscoveryWait)
            discovery.stop()
            for service in found.sorted(by: { $0.name < $1.name }) where !agents.contains(where: { $0.url == service.url }) {
                agents.append((service.url, service.name))
            }
        }
        if agents.isEmpty {
            logger.info("no agent named or found through Avahi: checking the local destinations only")
        } else {
            logger.info("checking on \(agents.count) agent\(agents.count == 1 ? "" : "s"): \(agents.map(\.name).joined(separator: ", "))")
        }
        let client = HTTPClient(token: token, caFile: settings.tlsCA)
        // Each agent's own name, from its health answer.
        var named: [(url: String, name: String)] = []
        for agent in agents {
            if let health = try? client.request("GET", agent.url + "/v1/health", timeout: .seconds(5)), health.status == 200,
               let name = (try? JSONParser.parse(bytes: health.body))?["name"]?.stringValue {
                named.append((agent.url, name))
            } else {
                logger.warning("agent \(agent.name) at \(agent.url) is not answering: its files cannot be counted")
                named.append((agent.url, agent.name))
            }
        }
        var status = ExitStatus.verified
        for spec in configuration.targets {
            let whole = check(spec, agents: named, client: client)
            if !whole { status = max(status, .incomplete) }
        }
        return status
    }

    private func check(_ spec: TargetSpec, agents: [(url: String, name: String)], client: HTTPClient) -> Bool {
        let placement = configuration.placement(for: spec)
        guard (try? FileStatus.of(spec.source))??.kind == .directory else {
            logger.error("\(spec.source): the source does not exist; there is nothing to compare the copy with")
            return false
        }
        let source: [CopyCheck.SourceFile]
        do {
            source = try Self.hashTree(spec.source).map { .init(path: $0.path, size: $0.size, checksum: $0.checksum) }
        } catch {
            logger.error("\(spec.source): cannot read the source: \(error)")
            return false
        }
        var nodes: [String: [RelativePath: CopyCheck.Copy]] = [:]
        if (try? FileStatus.of(spec.destination))??.kind == .directory {
            do {
                let local = try Self.hashTree(spec.destination)
                if !local.isEmpty {
                    nodes[Clock.hostName() + " (local " + spec.destination + ")"] = Dictionary(
                        local.map { ($0.path, CopyCheck.Copy(size: $0.size, checksum: $0.checksum)) }, uniquingKeysWith: { a, _ in a })
                }
            } catch {
                logger.warning("cannot read the local copy \(spec.destination): \(error)")
            }
        }
        for agent in agents {
            do {
                guard let entries = try AgentListingFetch.fetch(client, agentURL: agent.url, destination: spec.agentDestination,
                                                                verify: true, timeout: .seconds(86_400)) else { continue }
                var files: [RelativePath: CopyCheck.Copy] = [:]
                for entry in entries where !entry.isDirectory {
                    files[entry.path] = .init(size: entry.size, checksum: entry.checksum)
                }
                // Agents on one shared filesystem all list the same files: one node.
                let name = placement.kind == .shared ? "shared filesystem" : agent.name
                nodes[name, default: [:]].merge(files) { a, _ in a }
            } catch {
                logger.warning("cannot list \(spec.agentDestination) on agent \(agent.name): \(error)")
            }
        }
        let result = CopyCheck(source: source, nodes: nodes, replicas: placement.replicas)
        let where_ = result.copiesPerNode.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
        if result.isWhole {
            say("verify \(spec.source): whole. \(result.files) files (\(Quantity.formatBytes(result.bytes))), each with \(placement.replicas) verified cop\(placement.replicas == 1 ? "y" : "ies") [\(where_)]")
        } else {
            say("verify \(spec.source): INCOMPLETE. \(result.problems.count) problems over \(result.files) files; copies found [\(where_.isEmpty ? "none" : where_)]")
            for problem in result.problems.prefix(Self.problemsShown) { say("  \(problem.path): \(problem.message)") }
            if result.problems.count > Self.problemsShown { say("  ... and \(result.problems.count - Self.problemsShown) more") }
        }
        if result.extra > 0 { say("  (\(result.extra) files on the nodes are not at the source: deleted there, or not softcopy's)") }
        return result.isWhole
    }

    /// The verdict goes to standard output (logs go to standard error).
    private func say(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        bytes.withUnsafeBytes { try? FileDescriptor.writeAll(STDOUT_FILENO, $0) }
    }

    /// Every regular file under `root` (writer temp files, softcopy's own state and temp
    /// files left out), hashed with XXH3-128.
    static func hashTree(_ root: String) throws(SystemError) -> [(path: RelativePath, size: UInt64, checksum: Checksum)] {
        var result: [(RelativePath, UInt64, Checksum)] = []
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)
        defer { buffer.deallocate() }
        try DirectoryLister.walk(root) { path, entry throws(SystemError) in
            if ZarrNaming.isTemporary(name: entry.name) || entry.name.hasPrefix(DestinationTree.temporaryPrefix) { return false }
            switch entry.kind {
            case .directory:
                return entry.name != ZarrNaming.stateDirectoryName
            case .regular:
                let name = root + "/" + path.string
                let fd = PathBytes.withCString(name) { Glibc.open($0, O_RDONLY | O_CLOEXEC) }
                guard fd >= 0 else { throw SystemError("open", path: name) }
                let (checksum, length) = try FileDescriptor(owning: fd).checksum(buffer: buffer, path: name)
                result.append((path, length, checksum))
                return false
            default:
                return false
            }
        }
        return result
    }
}
