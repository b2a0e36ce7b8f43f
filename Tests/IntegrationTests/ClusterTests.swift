import Glibc
import Testing
import SoftcopyCore
import SoftcopyIO
import SoftcopyTesting

/// Hosts 1-3 run agents store1-3, host 4 the coordinator: separate network namespaces on
/// a bridge, each with its own dbus and avahi-daemon. Nothing names an address: the
/// coordinator finds the agents through Avahi.
extension IntegrationTests {
    static let agentNames = ["store1", "store2", "store3"]

    /// A targets file on disk for one live acquisition.
    static func targetsFile(_ dir: TestDirectory, _ name: String, source: String, destination: String, policy: [String]) -> String {
        let file = dir.appending(name + ".yaml")
        TestDirectory.write("targets:\n  - source: \(source)\n    destination: \(destination)\n"
                            + policy.map { "    \($0)\n" }.joined() + "discovery_wait: 10s\n", to: file)
        return file
    }

    /// A coordinator on `host` for `targets`, and a live tensorstore acquisition of `timePoints`
    /// time points (16 chunks of 8 KiB each) at `rate` MB/s, written in the test's namespace.
    static func liveRun(
        _ cluster: Cluster, on host: Int, _ dir: TestDirectory, _ name: String, source: String, targets: String,
        timePoints: Int, rate: String
    ) throws -> (coordinator: ChildProcess, writer: ChildProcess) {
        let coordinator = try cluster.start(on: host, [Tools.coordinator, "--verbose", "--progress", "never", "--wait-for-source", targets],
                                            logPrefix: dir.appending("coordinator" + name))
        let writer = try ChildProcess(
            [Tools.python, Tools.acquire, source, "--shape", "\(timePoints),4,128,128", "--chunks", "1,1,64,64", "--rate", rate, "--complete"],
            logPrefix: dir.appending("writer" + name))
        return (coordinator, writer)
    }

    /// Chunk files (not metadata) under one agent's copy, by path.
    static func chunks(_ root: String) throws -> [String: [UInt8]] {
        try TreeComparison.files(root).filter { ZarrNaming.role(of: RelativePath(unchecked: $0.key)) == .data }
    }

    @Test("Three agents found through Avahi: a live acquisition spread by each policy lands whole, placed as the policy says")
    func clusterPolicies() throws {
        let dir = TestDirectory("cluster")
        let cluster = try Cluster(hosts: 4)
        let roots = Self.agentNames.map { dir.appending($0) }
        let agents = try (0..<3).map { n in
            try cluster.agent(on: n + 1, name: Self.agentNames[n], root: roots[n], logPrefix: dir.appending(Self.agentNames[n]))
        }

        // The coordinator's host sees every agent, with its TXT record (resolved: give a
        // loaded machine a few tries).
        var seen: [String: [String: String]] = [:]
        try? ChildProcess.waitUntil(timeout: .seconds(20), "three agents resolved by avahi-browse") {
            seen = (try? cluster.browse(from: 4)) ?? [:]
            return Set(seen.keys) == Set(Self.agentNames) && seen.values.allSatisfy { $0["node"] != nil }
        }
        #expect(Set(seen.keys) == Set(Self.agentNames), "\(seen)")
        for (n, name) in Self.agentNames.enumerated() {
            let txt = seen[name] ?? [:]
            #expect(txt["node"] == name && txt["api"] == "1" && txt["token"] == "no" && txt["address"] == cluster.address(n + 1), "\(txt)")
            #expect(UInt64(txt["free"] ?? "") ?? 0 > 0 && UInt64(txt["total"] ?? "") ?? 0 >= UInt64(txt["free"] ?? "") ?? 0, "\(txt)")
        }

        for (policy, lines) in [("balanced", ["placement: balanced"]), ("locality", ["placement: locality"]),
                                ("replicas", ["replicas: 2"])] {
            let source = dir.appending("src-\(policy).zarr")
            let destination = "acq-\(policy).zarr"
            let targets = Self.targetsFile(dir, policy, source: source, destination: destination, policy: lines)
            let (coordinator, writer) = try Self.liveRun(cluster, on: 4, dir, "-" + policy, source: source, targets: targets,
                                                         timePoints: 12, rate: "0.5")
            #expect(try writer.wait(timeout: .seconds(120)) == 0, "\(writer.stderr)")
            #expect(try coordinator.wait(timeout: .seconds(120)) == 0, "\(policy): \(coordinator.stderr)")
            #expect(coordinator.stderr.contains("copying through 3 agents"), "\(coordinator.stderr)")
            let copies = roots.map { $0 + "/" + destination }
            #expect(try TreeComparison.unionDifferences(source: source, destinations: copies) == [], "\(policy)")

            let held = try copies.map { try Self.chunks($0) }
            let total = try Self.chunks(source).count
            #expect(total == 12 * 4 * 4)
            switch policy {
            case "balanced":
                // Stated skew: every agent holds between 1/6 and 1/2 of the chunks (a fair share is 1/3).
                for (n, files) in held.enumerated() {
                    #expect(files.count * 6 >= total && files.count * 2 <= total, "store\(n + 1) holds \(files.count) of \(total)")
                }
                #expect(held.map(\.count).reduce(0, +) == total, "each chunk on one agent")
            case "locality":
                // Every time point on exactly one agent: the one rendezvous hashing names.
                let nodes = Self.agentNames.enumerated().map { PlacementNode(id: NodeID(UInt32($0.offset + 1)), name: $0.element, freeBytes: nil) }
                for t in 0..<12 {
                    let holders = held.indices.filter { n in held[n].keys.contains { $0.hasPrefix("c/\(t)/") } }
                    let expected = RendezvousHash.ranked(nodes, group: "#\(t)")[0].name
                    #expect(holders.map { Self.agentNames[$0] } == [expected], "time point \(t) is on \(holders)")
                }
            default:
                // Two copies of every file, on two different agents, byte for byte.
                let sourceFiles = try TreeComparison.files(source)
                let all = try copies.map { try TreeComparison.files($0) }
                for (path, bytes) in sourceFiles {
                    #expect(all.filter { $0[path] == bytes }.count == 2, "\(path) has \(all.filter { $0[path] == bytes }.count) copies")
                }
            }
            // The manifest names the node of every file.
            let manifest = try JSONParser.parse(bytes: readSmallFile(copies[0] + "/" + Manifest.relativePath.string))
            let entries = manifest["entries"]?.arrayValue ?? []
            #expect(!entries.isEmpty && entries.allSatisfy { ($0["nodes"]?.arrayValue?.count ?? 0) == (policy == "replicas" ? 2 : 1) })

            // verify re-checks the finished copy on demand, from the coordinator's host.
            let verify = try cluster.run(on: 4, [Tools.coordinator, "verify", targets], timeout: .seconds(60))
            #expect(verify.code == 0, "\(verify.stdout)\(verify.stderr)")
            #expect(verify.stdout.contains("whole"), "\(verify.stdout)")
        }

        // verify says so when a copy is damaged: one chunk removed from the agent that holds it.
        let balancedCopies = roots.map { $0 + "/acq-balanced.zarr" }
        let victim = try balancedCopies.first { try !Self.chunks($0).isEmpty }!
        let chunk = try Self.chunks(victim).keys.sorted()[0]
        #expect(unlink(victim + "/" + chunk) == 0)
        let broken = try cluster.run(on: 4, [Tools.coordinator, "verify", dir.appending("balanced.yaml")], timeout: .seconds(60))
        #expect(broken.code == 1, "\(broken.stdout)")
        #expect(broken.stdout.contains("INCOMPLETE") && broken.stdout.contains(chunk), "\(broken.stdout)")

        // With the source gone, verify checks against the manifest the agents hold, and
        // names the agent the manifest puts the deleted chunk on.
        let balancedSource = dir.appending("src-balanced.zarr")
        #expect(rename(balancedSource, balancedSource + ".aside") == 0)
        let gone = try cluster.run(on: 4, [Tools.coordinator, "verify", dir.appending("balanced.yaml")], timeout: .seconds(60))
        #expect(rename(balancedSource + ".aside", balancedSource) == 0)
        let holder = Self.agentNames[balancedCopies.firstIndex(of: victim)!]
        #expect(gone.code == 1, "\(gone.stdout)\(gone.stderr)")
        #expect(gone.stdout.contains("against its manifest of ") && gone.stdout.contains("(the source is gone)"), "\(gone.stdout)")
        #expect(gone.stdout.contains("  \(chunk): missing: no node holds it (not on \(holder), where the manifest puts it)"), "\(gone.stdout)")
        // Each agent's checksum list checks its copy with xxh128sum alone.
        for root in roots {
            let check = try ChildProcess.run(["/bin/sh", "-c", "cd \"$0\" && exec xxh128sum -c --quiet .softcopy/xxh128sums", root + "/acq-replicas.zarr"],
                                             timeout: .seconds(60))
            #expect(check.code == 0, "\(root): \(check.stdout)\(check.stderr)")
        }

        // A stopped agent disappears from the network.
        agents[2].signal(SIGTERM)
        #expect(try agents[2].wait(timeout: .seconds(30)) == 0)
        // (mDNS drops a withdrawn record about a second after the goodbye.)
        var after: [String: [String: String]] = [:]
        try? ChildProcess.waitUntil(timeout: .seconds(20), "store3 to disappear from Avahi") {
            after = (try? cluster.browse(from: 4)) ?? [:]
            return Set(after.keys) == ["store1", "store2"]
        }
        #expect(Set(after.keys) == ["store1", "store2"], "\(after.keys)")
    }
}

extension IntegrationTests {
    @Test("Cluster changes mid-run: an agent started late receives work, an agent killed hands its work to the others, nothing is lost")
    func clusterMembershipChanges() throws {
        let dir = TestDirectory("cluster-churn")
        let cluster = try Cluster(hosts: 4)
        let roots = Self.agentNames.map { dir.appending($0) }
        let first = try cluster.agent(on: 1, name: "store1", root: roots[0], logPrefix: dir.appending("store1"))
        let second = try cluster.agent(on: 2, name: "store2", root: roots[1], logPrefix: dir.appending("store2"))
        let source = dir.appending("src.zarr")
        let targets = Self.targetsFile(dir, "churn", source: source, destination: "acq.zarr", policy: ["placement: balanced"])
        let (coordinator, writer) = try Self.liveRun(cluster, on: 4, dir, "", source: source, targets: targets, timePoints: 40, rate: "0.4")
        let copies = roots.map { $0 + "/acq.zarr" }
        try ChildProcess.waitUntil(timeout: .seconds(60), "both agents to hold chunks") {
            copies.prefix(2).allSatisfy { ((try? Self.chunks($0).count) ?? 0) >= 8 }
        }

        // A third agent appears mid-run: Avahi announces it, the coordinator attaches it, it gets work.
        let late = try cluster.agent(on: 3, name: "store3", root: roots[2], logPrefix: dir.appending("store3"))
        try ChildProcess.waitUntil(timeout: .seconds(60), "the late agent to receive chunks") {
            ((try? Self.chunks(copies[2]).count) ?? 0) >= 4
        }
        #expect(writer.isRunning, "the acquisition must still be running when the cluster changes")

        // The first agent dies mid-run: its leases go to the others, and what it held is copied again.
        first.signal(SIGKILL)
        _ = try first.wait(timeout: .seconds(10))
        #expect(writer.isRunning)
        #expect(try writer.wait(timeout: .seconds(180)) == 0, "\(writer.stderr)")
        #expect(try coordinator.wait(timeout: .seconds(180)) == 0, "\(coordinator.stderr)")
        #expect(coordinator.stderr.contains("found agent store3"), "\(coordinator.stderr)")
        #expect(coordinator.stderr.contains("agents that are gone"), "\(coordinator.stderr)")
        // The survivors alone hold the whole archive, byte for byte.
        #expect(try TreeComparison.unionDifferences(source: source, destinations: Array(copies.suffix(2))) == [])
        #expect(try Self.chunks(copies[2]).count > 4)
        #expect(second.isRunning && late.isRunning)
    }

    @Test("shared: agents on one filesystem take any chunk; the archive lands whole and the manifest names who wrote what")
    func clusterShared() throws {
        let dir = TestDirectory("cluster-shared")
        let cluster = try Cluster(hosts: 4)
        let shared = dir.appending("shared")
        let agents = try (0..<3).map { n in
            try cluster.agent(on: n + 1, name: Self.agentNames[n], root: shared, logPrefix: dir.appending(Self.agentNames[n]))
        }
        let source = dir.appending("src.zarr")
        let targets = Self.targetsFile(dir, "shared", source: source, destination: "acq.zarr", policy: ["placement: shared"])
        let (coordinator, writer) = try Self.liveRun(cluster, on: 4, dir, "", source: source, targets: targets, timePoints: 12, rate: "0.5")
        #expect(try writer.wait(timeout: .seconds(120)) == 0, "\(writer.stderr)")
        #expect(try coordinator.wait(timeout: .seconds(120)) == 0, "\(coordinator.stderr)")
        #expect(try TreeComparison.differences(source: source, destination: shared + "/acq.zarr") == [])
        let manifest = try JSONParser.parse(bytes: readSmallFile(shared + "/acq.zarr/" + Manifest.relativePath.string))
        let writers = Set((manifest["entries"]?.arrayValue ?? []).compactMap { $0["nodes"]?.arrayValue?.first?.stringValue })
        #expect(writers.count >= 2 && writers.isSubset(of: Set(Self.agentNames)), "\(writers)")
        let verify = try cluster.run(on: 4, [Tools.coordinator, "verify", targets], timeout: .seconds(60))
        #expect(verify.code == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(agents.allSatisfy { $0.isRunning })
    }
}

extension IntegrationTests {
    @Test("No agent at the start: the coordinator says it copies locally; an agent that appears later joins the run")
    func clusterLocalFallback() throws {
        let dir = TestDirectory("cluster-fallback")
        let cluster = try Cluster(hosts: 2)
        let source = dir.appending("src.zarr")
        // A relative destination: next to the targets file locally, under the root on an agent.
        let targets = dir.appending("fallback.yaml")
        TestDirectory.write("targets:\n  - source: \(source)\n    destination: copy.zarr\ndiscovery_wait: 2s\n", to: targets)
        let (coordinator, writer) = try Self.liveRun(cluster, on: 2, dir, "", source: source, targets: targets, timePoints: 40, rate: "0.4")
        try ChildProcess.waitUntil(timeout: .seconds(30), "the coordinator to choose a local copy") {
            coordinator.stderr.contains("no agent found through Avahi")
        }
        let root = dir.appending("store1")
        let agent = try cluster.agent(on: 1, name: "store1", root: root, logPrefix: dir.appending("store1"))
        try ChildProcess.waitUntil(timeout: .seconds(60), "the agent found later to receive chunks") {
            ((try? Self.chunks(root + "/copy.zarr").count) ?? 0) >= 4
        }
        #expect(writer.isRunning, "the agent must join while the acquisition runs")
        #expect(try writer.wait(timeout: .seconds(180)) == 0, "\(writer.stderr)")
        #expect(try coordinator.wait(timeout: .seconds(180)) == 0, "\(coordinator.stderr)")
        #expect(try TreeComparison.unionDifferences(source: source, destinations: [dir.appending("copy.zarr"), root + "/copy.zarr"]) == [])
        // The manifest says which node holds each file: this host or the agent.
        let manifest = try JSONParser.parse(bytes: readSmallFile(dir.appending("copy.zarr/") + Manifest.relativePath.string))
        let nodes = Set((manifest["entries"]?.arrayValue ?? []).compactMap { $0["nodes"]?.arrayValue?.first?.stringValue })
        #expect(nodes.contains("store1") && nodes.count == 2, "\(nodes)")
        #expect(agent.isRunning)
    }
}

extension IntegrationTests {
    @Test("The advertisement stays true: a name collision is resolved, an avahi-daemon restart is survived, free space is kept current")
    func clusterAdvertisement() throws {
        let dir = TestDirectory("cluster-advertise")
        let cluster = try Cluster(hosts: 3)
        // A small filesystem as the first agent's root, so that writing into it moves its free space visibly.
        let (small, unmount) = try Self.smallFilesystem(dir, "small", size: "64m")
        defer { unmount() }
        let first = try cluster.agent(on: 1, name: "store1", root: small, logPrefix: dir.appending("first"))
        let twin = try cluster.agent(on: 2, name: "store1", root: dir.appending("twin"), logPrefix: dir.appending("twin"))
        #expect(twin.stderr.contains("advertising as store1 #2"), "\(twin.stderr)")
        var seen: [String: [String: String]] = [:]
        try ChildProcess.waitUntil(timeout: .seconds(20), "both agents to be listed") {
            seen = (try? cluster.browse(from: 3)) ?? [:]
            return Set(seen.keys) == ["store1", "store1 #2"] && seen.values.allSatisfy { $0["free"] != nil }
        }
        let freeBefore = UInt64(seen["store1"]?["free"] ?? "") ?? 0
        #expect(freeBefore > 0 && freeBefore <= 64 << 20, "\(seen)")

        // 24 MiB written under the root: the record follows within a few seconds.
        TestDirectory.write(String(repeating: "x", count: 24 << 20), to: small + "/filler")
        try ChildProcess.waitUntil(timeout: .seconds(20), "the TXT record to show less free space") {
            let free = UInt64((try? cluster.browse(from: 3))?["store1"]?["free"] ?? "") ?? .max
            return free + (20 << 20) <= freeBefore
        }

        // avahi-daemon on the first host restarts: the agent registers again by itself.
        try cluster.restartAvahi(on: 1)
        try ChildProcess.waitUntil(timeout: .seconds(30), "the agent to be advertised again") {
            first.stderr.split(separator: "\n").filter { $0.contains("advertised through Avahi as store1 (") }.count >= 2
                && ((try? cluster.browse(from: 3))?["store1"] != nil)
        }
        #expect(first.stderr.contains("avahi-daemon went away; reconnecting"), "\(first.stderr)")
        #expect(first.isRunning && twin.isRunning)
    }
}
