import Glibc
import Testing
import SoftcopyCore
import SoftcopyCoordinator
import SoftcopyHTTP
import SoftcopyIO
import SoftcopyTesting

/// The coordinator and its agents in one test process, over real HTTP on loopback.
@Suite("In process: a coordinator and its agents")
struct AgentRunTests {
    private func agents(_ dir: TestDirectory, _ count: Int, token: String? = nil) throws -> [InProcessAgent] {
        try (1...count).map { try InProcessAgent(root: dir.appending("store\($0)"), name: "store\($0)", token: token) }
    }

    /// Which agents hold each chunk, by chunk path.
    private func holders(_ agents: [InProcessAgent], _ destination: String) throws -> [String: [String]] {
        var out: [String: [String]] = [:]
        for agent in agents {
            for key in chunkFiles(try agent.files(destination)).keys { out[key, default: []].append(agent.name) }
        }
        return out
    }

    private func health(_ agent: InProcessAgent) throws -> JSONValue {
        let response = try HTTPClient(token: nil).request(.health, at: agent.url, timeout: .seconds(5))
        return try JSONParser.parse(bytes: response.body)
    }

    @Test("One agent: --once lands every file under the agent's root, verified, with the manifest stored there")
    func oneAgent() throws {
        let dir = TestDirectory("ip-agent")
        let source = SourceScript(root: dir.appending("src"), chunks: 6)
        source.writeChunks(0..<6)
        let stores = try agents(dir, 1)
        defer { stores.forEach { $0.stop() } }
        #expect(try InProcessRun.run(InProcessRun.configuration(source: source.root, destination: "dst", agents: stores)) == .verified)
        #expect(try TreeComparison.differences(source: source.root, destination: stores[0].root + "/dst") == [])
        #expect(try manifest(at: stores[0].root + "/dst")["status"]?.stringValue == "verified")
    }

    @Test("Two agents, balanced: every chunk on exactly one of them, both take a share, and the union is the source")
    func balancedSpread() throws {
        let dir = TestDirectory("ip-balanced")
        let source = SourceScript(root: dir.appending("src"), chunks: 24)
        source.writeChunks(0..<24)
        let stores = try agents(dir, 2)
        defer { stores.forEach { $0.stop() } }
        #expect(try InProcessRun.run(InProcessRun.configuration(source: source.root, destination: "dst", agents: stores)) == .verified)
        let held = try holders(stores, "dst")
        #expect(held.count == 24)
        #expect(held.values.allSatisfy { $0.count == 1 })
        #expect(Set(held.values.flatMap { $0 }) == ["store1", "store2"])
        #expect(try TreeComparison.unionDifferences(source: source.root, destinations: stores.map { $0.root + "/dst" }) == [])
    }

    @Test("replicas: 2 on two agents: every chunk on both")
    func replicas() throws {
        let dir = TestDirectory("ip-replicas")
        let source = SourceScript(root: dir.appending("src"), chunks: 8)
        source.writeChunks(0..<8)
        let stores = try agents(dir, 2)
        defer { stores.forEach { $0.stop() } }
        let configuration = InProcessRun.configuration(source: source.root, destination: "dst", agents: stores) { _, spec in spec.replicas = 2 }
        #expect(try InProcessRun.run(configuration) == .verified)
        let held = try holders(stores, "dst")
        #expect(held.count == 8)
        #expect(held.values.allSatisfy { Set($0) == ["store1", "store2"] })
        for store in stores { #expect(try TreeComparison.differences(source: source.root, destination: store.root + "/dst") == []) }
    }

    @Test("A rerun resumes from the agents' listings: nothing is sent again, and no chunk moves (sticky placement)")
    func resumeFromListings() throws {
        let dir = TestDirectory("ip-resume")
        let source = SourceScript(root: dir.appending("src"), chunks: 16)
        source.writeChunks(0..<16)
        let stores = try agents(dir, 2)
        defer { stores.forEach { $0.stop() } }
        let configuration = InProcessRun.configuration(source: source.root, destination: "dst", agents: stores)
        #expect(try InProcessRun.run(configuration) == .verified)
        let before = try holders(stores, "dst")
        #expect(try InProcessRun.run(configuration) == .verified)
        #expect(try holders(stores, "dst") == before)
        let copied = stores.compactMap { store in try? manifest(at: store.root + "/dst") }.compactMap { statistic($0, "copied_files") }
        #expect(!copied.isEmpty && copied.allSatisfy { $0 == 0 })
    }

    @Test("New chunks after a first run go to the agents; the chunks already placed stay where they are")
    func stickyWithNewWork() throws {
        let dir = TestDirectory("ip-sticky")
        let source = SourceScript(root: dir.appending("src"), chunks: 20)
        source.writeChunks(0..<10)
        let stores = try agents(dir, 2)
        defer { stores.forEach { $0.stop() } }
        let configuration = InProcessRun.configuration(source: source.root, destination: "dst", agents: stores)
        #expect(try InProcessRun.run(configuration) == .verified)
        let before = try holders(stores, "dst")
        source.writeChunks(10..<20)
        #expect(try InProcessRun.run(configuration) == .verified)
        let after = try holders(stores, "dst")
        #expect(after.count == 20)
        for (key, nodes) in before { #expect(after[key] == nodes, "\(key) moved") }
        #expect(try TreeComparison.unionDifferences(source: source.root, destinations: stores.map { $0.root + "/dst" }) == [])
    }

    @Test("An agent that refuses the coordinator's token ends --once at once, naming it, and gets nothing")
    func tokenRefused() throws {
        let dir = TestDirectory("ip-token")
        let source = SourceScript(root: dir.appending("src"), chunks: 2)
        source.writeChunks(0..<2)
        let stores = try agents(dir, 1, token: "sesame")
        defer { stores.forEach { $0.stop() } }
        let status = try InProcessRun.run(InProcessRun.configuration(source: source.root, destination: "dst", agents: stores), timeout: .seconds(20))
        #expect(status != .verified)
        #expect(chunkFiles(try stores[0].files("dst")).isEmpty)
    }

    @Test("A live run through an agent: the job is in the agent's health while it runs, and gone after")
    func jobInHealth() throws {
        let dir = TestDirectory("ip-health")
        let source = SourceScript(root: dir.appending("src"), chunks: 4)
        source.writeChunks(0..<4)
        let stores = try agents(dir, 1)
        defer { stores.forEach { $0.stop() } }
        let run = try InProcessRun(InProcessRun.configuration(source: source.root, destination: "dst", agents: stores, once: false))
        #expect(eventually { exists(stores[0].root + "/dst/" + SourceScript.chunk(3)) })
        let jobs = try health(stores[0])["jobs"]?.arrayValue ?? []
        #expect(jobs.count == 1)
        #expect(jobs.first?["coordinator"]?.stringValue?.hasPrefix("http://127.0.0.1:") == true)
        run.job.endAcquisition()
        #expect(try run.wait() == .verified)
        #expect(eventually { ((try? health(stores[0]))?["jobs"]?.arrayValue ?? [JSONValue.null]).allSatisfy { $0["state"]?.stringValue != "running" } })
    }

    @Test("A chunk asked for with a lease that is not current is refused (409), and the copy is not disturbed")
    func staleLeaseRefused() throws {
        let dir = TestDirectory("ip-stale")
        let source = SourceScript(root: dir.appending("src"), chunks: 4)
        source.writeChunks(0..<4)
        let stores = try agents(dir, 1)
        defer { stores.forEach { $0.stop() } }
        let run = try InProcessRun(InProcessRun.configuration(source: source.root, destination: "dst", agents: stores, once: false))
        #expect(eventually { exists(stores[0].root + "/dst/" + SourceScript.chunk(3)) })
        let job = try #require(try health(stores[0])["jobs"]?.arrayValue?.first)
        let coordinator = try #require(job["coordinator"]?.stringValue)
        let name = try #require(job["job"]?.stringValue)
        let answer = try HTTPClient(token: nil).request(.chunk(job: name, lane: "0", path: SourceScript.chunk(1)), at: coordinator,
                                                        query: [("lease", "999999")], timeout: .seconds(5))
        #expect(answer.status == 409)
        run.job.endAcquisition()
        #expect(try run.wait() == .verified)
        #expect(try TreeComparison.differences(source: source.root, destination: stores[0].root + "/dst") == [])
    }

    @Test("Lease expiry: work leased by an agent that falls silent comes back after the lease timeout, goes to the agent that works, and the run is verified")
    func leaseExpiry() throws {
        let dir = TestDirectory("ip-lease-expiry")
        let source = SourceScript(root: dir.appending("src"), chunks: 2 + 10 * 4)
        source.writeChunks(0..<2)
        let stores = try agents(dir, 1)
        defer { stores.forEach { $0.stop() } }
        let run = try InProcessRun(InProcessRun.configuration(source: source.root, destination: "dst", agents: stores, once: false) { settings, _ in
            settings.leaseTimeout = .seconds(1)
        })
        #expect(eventually { exists(stores[0].root + "/dst/" + SourceScript.chunk(1)) })
        let job = try #require(try health(stores[0])["jobs"]?.arrayValue?.first)
        let coordinator = try #require(job["coordinator"]?.stringValue)
        let name = try #require(job["job"]?.stringValue)
        let agent = try #require(job["agent"]?.uint64Value)
        // A silent agent: it takes work under the working agent's number and never acks.
        // Its long poll races the agent's own for new chunks (it wins about half the
        // rounds); a round it loses costs half a second, and the rounds are bounded.
        let client = HTTPClient(token: nil)
        var stolen: [LeaseGrant.Item] = []
        for round in 0..<10 where stolen.isEmpty {
            let next = 2 + round * 4
            let request = LeaseRequest(agent: NodeID(UInt32(agent)), maxItems: 1024, maxBytes: .max, waitMilliseconds: 500)
            let asked = Clock.now()
            source.writeChunks(next..<(next + 4))
            let answer = try client.request(.lease(job: name), at: coordinator, json: request.json, timeout: .seconds(10))
            #expect(answer.status == 200)
            stolen = try LeaseGrant(body: answer.body).items
            #expect(Clock.now() - asked < .seconds(5))
        }
        try #require(!stolen.isEmpty, "the silent agent never won a lease")
        // Each stolen lease expires after a second; the work goes back to the queue.
        let status = { () throws -> JSONValue? in
            let response = try client.request(.status, at: coordinator, timeout: .seconds(5))
            return try JSONParser.parse(bytes: response.body)["jobs"]?.arrayValue?.first?["targets"]?.arrayValue?.first
        }
        #expect(try eventually { (try status()?["expired_leases"]?.uint64Value ?? 0) >= UInt64(stolen.count) })
        #expect(eventually { stolen.allSatisfy { exists(stores[0].root + "/dst/" + $0.path.string) } })
        // An ack under an expired lease is taken as stale, not as a copy.
        let late = AckReport(agent: NodeID(UInt32(agent)), entries: [.init(lane: stolen[0].lane, path: stolen[0].path, lease: stolen[0].lease, outcome: .deleted)])
        let ack = try client.request(.ack(job: name), at: coordinator, json: late.json, timeout: .seconds(5))
        #expect(ack.status == 200 && (try? AckAnswer(body: ack.body))?.stale == 1, "\(ack.bodyText)")
        source.complete()
        #expect(try run.wait() == .verified)
        #expect(try TreeComparison.differences(source: source.root, destination: stores[0].root + "/dst") == [])
    }

    @Test("One destination, one writer, at the agent: a second coordinator's job into a destination in use is refused")
    func agentDestinationInUse() throws {
        let dir = TestDirectory("ip-agent-lock")
        let a = SourceScript(root: dir.appending("a"), chunks: 2)
        a.writeChunks(0..<2)
        let stores = try agents(dir, 1)
        defer { stores.forEach { $0.stop() } }
        let first = try InProcessRun(InProcessRun.configuration(source: a.root, destination: "dst", agents: stores, once: false))
        #expect(eventually { exists(stores[0].root + "/dst/" + SourceScript.chunk(1)) })
        let second = try InProcessRun.run(InProcessRun.configuration(source: a.root, destination: "dst", agents: stores), timeout: .seconds(20))
        #expect(second != .verified)
        first.job.endAcquisition()
        #expect(try first.wait() == .verified)
        #expect(try TreeComparison.differences(source: a.root, destination: stores[0].root + "/dst") == [])
    }

    @Test("verify after a run through agents is 0; a copy corrupted at an agent makes it 1")
    func verifyFindsCorruption() throws {
        let dir = TestDirectory("ip-verify")
        let source = SourceScript(root: dir.appending("src"), chunks: 4)
        source.writeChunks(0..<4)
        let stores = try agents(dir, 1)
        defer { stores.forEach { $0.stop() } }
        let configuration = InProcessRun.configuration(source: source.root, destination: "dst", agents: stores)
        #expect(try InProcessRun.run(configuration) == .verified)
        #expect(CopyVerifier(configuration: configuration).run() == .verified)
        // Same size, other bytes: only a re-hash finds it.
        let victim = stores[0].root + "/dst/" + SourceScript.chunk(2)
        TestDirectory.write(bytes: SourceScript.bytes(chunk: 2, generation: 9), to: victim)
        #expect(CopyVerifier(configuration: configuration).run() == .incomplete)
    }

    @Test("Failover: an agent stopped mid-run; what comes after goes to the other, what it held is sent again, and the run is verified")
    func failover() throws {
        let dir = TestDirectory("ip-failover")
        let source = SourceScript(root: dir.appending("src"), chunks: 24)
        let stores = try agents(dir, 2)
        defer { stores.forEach { $0.stop() } }
        let run = try InProcessRun(InProcessRun.configuration(source: source.root, destination: "dst", agents: stores, once: false))
        source.writeChunks(0..<12)
        #expect(eventually { (try? holders(stores, "dst").count) == 12 })
        let lost = Set(chunkFiles(try stores[0].files("dst")).keys)
        let stopping = Clock.now()
        stores[0].stop()
        // A stop does not wait for a pull thread's long poll to be answered.
        #expect(Clock.now() - stopping < .seconds(3))
        source.writeChunks(12..<24)
        source.complete()
        #expect(try run.wait() == .verified)
        let kept = chunkFiles(try stores[1].files("dst"))
        #expect((12..<24).allSatisfy { kept[SourceScript.chunk($0)] == SourceScript.bytes(chunk: $0) })
        // What only the stopped agent held was sent again to the one that stayed.
        #expect(lost.allSatisfy { kept[$0] != nil })
        #expect(try TreeComparison.differences(source: source.root, destination: stores[1].root + "/dst") == [])
    }
}
