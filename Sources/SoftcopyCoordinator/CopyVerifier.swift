import Glibc
import Logging
public import SoftcopyCore
import SoftcopyDiscovery
import SoftcopyHTTP
import SoftcopyIO

/// `softcopy-coordinator verify TARGETS_FILE`: re-checks finished copies on demand. Every
/// node holding the copy (the local destination if it exists, each agent named or
/// discovered) re-hashes what it holds, and the merged listings must hold each file of the
/// reference with its exact bytes, `replicas` times. Exit 0 only then. The reference is
/// the source, every file read and hashed; or, when the source is gone (it was removed
/// once the copy was verified) or with `--against-manifest`, the newest manifest the
/// nodes hold: its size and XXH3-128 of each file.
public final class CopyVerifier {
    let configuration: CoordinatorConfiguration
    let logger: Logger
    /// Where the verdict lines go: standard output (logs go to standard error).
    private let output: @Sendable (String) -> Void

    /// Problems printed per target before "and N more".
    static let problemsShown = 50

    public init(configuration: CoordinatorConfiguration, output: @escaping @Sendable (String) -> Void = CopyVerifier.standardOutput) {
        self.configuration = configuration
        self.output = output
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
            let found = discovery.waitForAgents(within: settings.discoveryWait ?? CoordinatorRun.defaultDiscoveryWait)
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
            if let health = try? client.request(.health, at: agent.url, timeout: .seconds(5)), health.status == 200,
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
        let sourceExists = (try? FileStatus.of(spec.source, followingLinks: true))??.kind == .directory
        // Nodes by the name the manifest gives them: the local destination by this host's.
        let localName = Clock.hostName()
        var nodes: [String: [RelativePath: CopyCheck.Copy]] = [:]
        var manifests: [JSONValue] = []
        if (try? FileStatus.of(spec.destination))??.kind == .directory {
            do {
                let local = try Self.hashTree(spec.destination)
                if !local.isEmpty {
                    nodes[localName] = Dictionary(
                        local.map { ($0.path, CopyCheck.Copy(size: $0.size, checksum: $0.checksum)) }, uniquingKeysWith: { a, _ in a })
                }
            } catch {
                logger.warning("cannot read the local copy \(spec.destination): \(error)")
            }
            if let bytes = try? readSmallFile(spec.destination + "/" + Manifest.relativePath.string, limit: Int.max),
               let manifest = try? JSONParser.parse(bytes: bytes) {
                manifests.append(manifest)
            }
        }
        var agentURLs: [String: String] = [:]
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
                agentURLs[name] = agent.url
                if let manifest = Self.manifest(of: spec, on: agent.url, client: client) { manifests.append(manifest) }
            } catch {
                logger.warning("cannot list \(spec.agentDestination) on agent \(agent.name): \(error)")
            }
        }
        // The newest manifest (a node that was away at the end of the last run keeps an
        // older one): its nodes of each file are the placement record, and without the
        // source its files are the reference. A shared filesystem is one node.
        var unreadable: [String] = []
        let newest = ManifestRecord.newest(of: manifests.compactMap { json -> ManifestRecord? in
            do throws(ProtocolError) {
                return try ManifestRecord(json)
            } catch {
                unreadable.append(error.message)
                return nil
            }
        })
        for message in unreadable { logger.warning("\(spec.agentDestination): a manifest cannot be read: \(message)") }
        let record = placement.kind == .shared ? nil : newest?.nodesByPath
        let reference: [CopyCheck.SourceFile]
        var notCopied: [CopyCheck.Problem] = []
        var against = "the source"
        if sourceExists, !configuration.againstManifest {
            do {
                (reference, notCopied) = try Self.hashSource(spec.source, links: SourceLinks(policy: configuration.symlinks(for: spec), root: spec.source))
            } catch {
                logger.error("\(spec.source): cannot read the source: \(error)")
                return false
            }
        } else {
            guard let newest else {
                let why = sourceExists ? "" : "the source does not exist, and "
                logger.error("\(spec.source): \(why)no readable manifest was found (at \(spec.destination)/\(Manifest.relativePath)\(agents.isEmpty ? "" : " or under \(spec.agentDestination) on the agents")): there is nothing to check the copy against")
                return false
            }
            reference = newest.reference
            against = "its manifest of \(newest.finished)\(sourceExists ? "" : " (the source is gone)")"
            if !newest.isVerified {
                notCopied.append(.init(path: Manifest.relativePath, message: "the manifest says the copy was \(newest.status) when it was written: only the files it lists are checked"))
            }
        }
        var result = CopyCheck(source: reference, nodes: nodes, replicas: placement.replicas, record: record)
        result.problems = (notCopied + result.problems).sorted { $0.path < $1.path }
        let label = { (name: String) in name == localName && agentURLs[name] == nil ? "\(name) (local \(spec.destination))" : name }
        let where_ = result.copiesPerNode.sorted { $0.key < $1.key }.map { "\(label($0.key)): \($0.value)" }.joined(separator: ", ")
        if result.isWhole {
            say("verify \(spec.source) against \(against): whole. \(result.files) files (\(Quantity.formatBytes(result.bytes))), each with \(placement.replicas) verified cop\(placement.replicas == 1 ? "y" : "ies") [\(where_)]")
        } else {
            say("verify \(spec.source) against \(against): INCOMPLETE. \(result.problems.count) problems over \(result.files) files; copies found [\(where_.isEmpty ? "none" : where_)]")
            for problem in result.problems.prefix(Self.problemsShown) { say("  \(problem.path): \(problem.message)") }
            if result.problems.count > Self.problemsShown { say("  ... and \(result.problems.count - Self.problemsShown) more") }
        }
        if record == nil, placement.kind != .shared, !nodes.isEmpty {
            say("  (no manifest found: which node holds the copy of each file is not known, so duplicates are not told apart)")
        }
        let byNode = Dictionary(grouping: result.superseded, by: \.node)
        for (node, copies) in byNode.sorted(by: { $0.key < $1.key }) {
            let older = copies.filter { !$0.isDuplicate }.count
            let kinds = [older > 0 ? "\(older) older version\(older == 1 ? "" : "s")" : nil,
                         older < copies.count ? "\(copies.count - older) duplicate\(copies.count - older == 1 ? "" : "s")" : nil].compactMap { $0 }
            let detail = "\(label(node)) holds superseded copies of \(copies.count) file\(copies.count == 1 ? "" : "s") (\(kinds.joined(separator: ", "))) whose copy is on another node"
            guard configuration.repair else {
                say("  \(detail): they are not the copy; verify --repair removes them")
                continue
            }
            let removed = agentURLs[node].map { repair(copies, on: $0, destination: spec.agentDestination, client: client) }
                ?? repairLocal(copies, at: spec.destination)
            say("  \(detail): removed \(removed) of them\(removed < copies.count ? " (the others changed since, or could not be removed: see the log)" : "")")
        }
        if result.extra > 0 { say("  (\(result.extra) files on the nodes are not in \(against): deleted there, or not softcopy's)") }
        return result.isWhole
    }

    /// The manifest an agent holds for `spec`'s destination, if it has one.
    private static func manifest(of spec: TargetSpec, on url: String, client: HTTPClient) -> JSONValue? {
        let path = spec.agentDestination.split(separator: "/").joined(separator: "/") + "/" + Manifest.relativePath.string
        guard let response = try? client.request(.file(path: path), at: url, timeout: .seconds(600)), response.status == 200 else { return nil }
        return try? JSONParser.parse(bytes: response.body)
    }

    /// `verify --repair` at an agent: removes exactly the copies listed (the agent keeps
    /// any that changed since, and refuses while a run holds the destination). How many went.
    private func repair(_ copies: [CopyCheck.Superseded], on url: String, destination: String, client: HTTPClient) -> Int {
        var removed = 0
        var start = 0
        while start < copies.count {
            let batch = copies[start..<min(start + RemovalRequest.maximumItems, copies.count)]
            start += batch.count
            let request = RemovalRequest(destination: destination, job: nil,
                                         items: batch.map { .init(path: $0.path, size: $0.copy.size, checksum: $0.copy.checksum) })
            do {
                let response = try client.request(.remove, at: url, json: request.json, timeout: .seconds(600))
                guard response.status == 200 else {
                    logger.error("agent \(url) did not remove superseded copies: \(response.status) \(response.bodyText)")
                    break
                }
                let report = try RemovalReport(body: response.body)
                removed += report.removed.count + report.absent.count
                for kept in report.kept.prefix(5) { logger.warning("agent \(url) kept \(kept.path): \(kept.reason)") }
            } catch {
                logger.error("cannot remove superseded copies on agent \(url): \(error)")
                break
            }
        }
        return removed
    }

    /// `verify --repair` at the local destination, under its lock (never while a run
    /// writes there): removes each listed copy that still has the size it was hashed with.
    private func repairLocal(_ copies: [CopyCheck.Superseded], at root: String) -> Int {
        let tree: DestinationTree
        let lock: DestinationLock
        do {
            tree = try DestinationTree(root: root, create: false)
            lock = try DestinationLock.acquire(tree, holder: "softcopy-coordinator verify --repair, pid \(getpid()) on \(Clock.hostName())")
        } catch {
            logger.error("cannot repair \(root): \(error)")
            return 0
        }
        return withExtendedLifetime(lock) {
            var unlinked: [RelativePath] = []
            for copy in copies {
                guard let status = try? tree.status(of: copy.path), status.version.size == copy.copy.size else { continue }
                if (try? tree.remove(copy.path, syncDirectory: false)) != nil { unlinked.append(copy.path) }
            }
            return tree.syncRemovals(unlinked).durable.count
        }
    }

    private func say(_ line: String) {
        output(line)
    }

    /// The verdict goes to standard output (logs go to standard error).
    public static let standardOutput: @Sendable (String) -> Void = { line in
        let bytes = Array((line + "\n").utf8)
        bytes.withUnsafeBytes { try? FileDescriptor.writeAll(STDOUT_FILENO, $0) }
    }

    /// Every file a run copies from the source `root` (walked as the watcher walks it,
    /// links followed as `links` says, writer temp files left out), hashed with XXH3-128;
    /// and what is there but cannot be copied, with why.
    static func hashSource(_ root: String, links: SourceLinks) throws(SystemError) -> (files: [CopyCheck.SourceFile], problems: [CopyCheck.Problem]) {
        var files: [CopyCheck.SourceFile] = []
        var problems: [CopyCheck.Problem] = []
        var failure: SystemError?
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)
        defer { buffer.deallocate() }
        let walker = SourceTreeWalker(root: root, links: links)
        walker.walk { item in
            switch item {
            case .file(let path, _):
                guard !ZarrNaming.isTemporary(name: String(path.name)) else { return false }
                do {
                    guard let file = try SourceFile.open(walker.absolute(path), links: links) else { return false }  // gone meanwhile
                    let (checksum, length) = try file.descriptor.checksum(buffer: buffer, path: file.path)
                    files.append(.init(path: path, size: length, checksum: checksum))
                } catch {
                    problems.append(.init(path: path, message: "cannot read it at the source: \(error)"))
                }
            case .directory:
                return true
            case .problem(let path, let message):
                problems.append(.init(path: path, message: "not copied: \(message)"))
            case .skipped:
                break
            case .unreadable(_, let error):
                failure = failure ?? error
            }
            return false
        }
        if let failure { throw failure }
        return (files, problems)
    }

    /// Every regular file under the local destination `root` (softcopy's own state and
    /// temp files left out), hashed with XXH3-128.
    static func hashTree(_ root: String) throws(SystemError) -> [(path: RelativePath, size: UInt64, checksum: Checksum)] {
        var result: [(RelativePath, UInt64, Checksum)] = []
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)
        defer { buffer.deallocate() }
        let tree = try DestinationTree(root: root, create: false)
        try tree.walk { path, entry throws(SystemError) in
            if ZarrNaming.isTemporary(name: entry.name) || entry.name.hasPrefix(DestinationTree.temporaryPrefix) { return false }
            switch entry.kind {
            case .directory:
                return entry.name != ZarrNaming.stateDirectoryName
            case .regular:
                guard let file = try tree.openForReading(path) else { return false }  // gone meanwhile
                let (checksum, length) = try file.checksum(buffer: buffer, path: tree.displayPath(path))
                result.append((path, length, checksum))
                return false
            default:
                return false
            }
        }
        return result
    }
}
