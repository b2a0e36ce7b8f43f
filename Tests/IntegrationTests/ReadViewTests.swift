import Glibc
import Testing
import SoftcopyCore
import SoftcopyHTTP
import SoftcopyIO
import SoftcopyTesting

extension IntegrationTests {
    /// A GET (or HEAD) with headers of its own, answered in memory.
    static func get(_ url: String, method: String = "GET", headers: [String] = [], token: String? = nil) throws -> HTTPClientResponse {
        try HTTPClient(token: token).request(method, url, headers: headers, timeout: .seconds(30))
    }

    /// The coordinator on `source` to `acq.zarr` on `agents`, started before the writer.
    static func clusterCoordinator(_ dir: TestDirectory, _ source: String, _ agents: [AgentProcess], placement: String = "balanced",
                                   extra: [String] = []) throws -> ChildProcess {
        try ChildProcess(
            [Tools.coordinator, "--no-discovery", "--wait-for-source", "--progress", "never", "--listen", "127.0.0.1:0", "--placement", placement]
                + extra + agents.flatMap { ["--agent", $0.url] } + [source, "acq.zarr"],
            logPrefix: dir.appending("coordinator"))
    }

    @Test("The read view during a live tensorstore acquisition spread over three agents: zarr-python and tensorstore read it at one agent while it arrives (every chunk the fill value or the source's), and every agent serves the whole archive after the end",
          arguments: [
              ("plain", ["--shape", "20,2,64,64", "--chunks", "1,1,32,32"]),
              ("sharded", ["--shape", "16,2,64,64", "--chunks", "1,1,32,32", "--shards", "1,2,64,64"]),
              ("ome", ["--ome", "--shape", "12,2,64,64", "--chunks", "1,1,32,32"]),
          ])
    func readViewLive(_ name: String, _ layout: [String]) throws {
        let dir = TestDirectory("view-\(name)")
        let source = dir.appending("src.zarr")
        let agents = try (0..<3).map { try AgentProcess(in: dir, name: "n\($0)") }
        let coordinator = try Self.clusterCoordinator(dir, source, agents)
        defer { coordinator.signal(SIGKILL) }
        let writer = try ChildProcess([Tools.python, Tools.acquire, source, "--rate", "0.06", "--complete"] + layout, logPrefix: dir.appending("writer"))
        let report = dir.appending("report.json")
        let reader = try ChildProcess([Tools.python, Tools.readView, agents[1].url + "/zarr/acq.zarr", source, "--report", report, "--timeout", "150"],
                                      logPrefix: dir.appending("reader"))
        #expect(try writer.wait(timeout: .seconds(180)) == 0, "\(writer.stderr)")
        #expect(try coordinator.wait(timeout: .seconds(180)) == 0, "\(coordinator.stderr)")
        #expect(try reader.wait(timeout: .seconds(180)) == 0, "\(reader.stdout)\n\(reader.stderr)")
        let result = try JSONParser.parse(bytes: readSmallFile(report))
        let perSnapshot = result["whole_time_points"]?.arrayValue?.compactMap(\.int64Value) ?? []
        // Read while it arrived: some reads saw part of it, and chunks of it.
        #expect(perSnapshot.count >= 4 && perSnapshot.contains { $0 >= 1 } && perSnapshot.contains { $0 < perSnapshot.max()! || $0 == 0 },
                "\(result)")
        #expect((result["chunks_seen_arrived"]?.int64Value ?? 0) > 0, "\(result)")
        #expect(result["violations"]?.arrayValue == [], "\(result)")
        #expect(result["read_errors"]?.int64Value == 0, "a healthy cluster answers every read: \(result)")
        // The balanced placement spread it: no agent holds it all, yet each serves it all.
        for agent in agents { #expect(try agent.files("acq.zarr").count < TreeComparison.files(source).count) }
        for agent in [agents[0], agents[2]] {
            let after = try ChildProcess.run([Tools.python, Tools.readView, agent.url + "/zarr/acq.zarr", source, "--report", dir.appending("after.json"),
                                              "--timeout", "60"], timeout: .seconds(120))
            #expect(after.code == 0, "\(after.stdout)\(after.stderr)")
        }
    }

    @Test("Failover: the node that holds a chunk is killed; the view answers 503 with Retry-After for it (not 404, not other bytes) until the chunk is copied to another node, then serves that copy")
    func readViewFailover() throws {
        let dir = TestDirectory("view-failover")
        let source = dir.appending("src.zarr")
        try Scenario.writeArchive(source, ["--shape", "6,2,64,64", "--chunks", "1,1,32,32"])
        let agents = try (0..<3).map { try AgentProcess(in: dir, name: "n\($0)") }
        let coordinator = try Self.clusterCoordinator(dir, source, agents)
        defer { coordinator.signal(SIGKILL) }
        try ChildProcess.waitUntil(timeout: .seconds(60), "the archive on the three agents") {
            ((try? TreeComparison.unionDifferences(source: source, destinations: agents.map { $0.root + "/acq.zarr" })) ?? ["?"]).isEmpty
        }
        let key = try #require(try agents[2].files("acq.zarr").keys.filter { $0.hasPrefix("c/") }.sorted().first)
        let bytes = try readSmallFile(source + "/" + key)
        let url = agents[0].url + "/zarr/acq.zarr/" + key
        let before = try Self.get(url)
        #expect(before.status == 200 && before.body == bytes)
        agents[2].process.signal(SIGKILL)
        _ = try agents[2].process.wait(timeout: .seconds(10))
        let gone = try Self.get(url)
        #expect(gone.status == 503 && gone.header("retry-after") != nil && gone.bodyText.contains("n2"), "\(gone.status) \(gone.bodyText)")
        // Never a 404 for it, and no other bytes, while the run moves it.
        TestDirectory.write("", to: source + "/complete")
        var statuses: Set<Int> = []
        while coordinator.isRunning {
            let r = try Self.get(url)
            statuses.insert(r.status)
            #expect(r.status == 503 || (r.status == 200 && r.body == bytes), "\(r.status) \(r.bodyText)")
            guard r.status == 503 else { break }
        }
        #expect(try coordinator.wait(timeout: .seconds(120)) == 0, "\(coordinator.stderr)")
        for agent in agents.prefix(2) {
            let after = try Self.get(agent.url + "/zarr/acq.zarr/" + key)
            #expect(after.status == 200 && after.body == bytes, "\(after.status) \(after.bodyText)")
        }
        #expect(!statuses.contains(404))
    }

    @Test("Two versions of one key on two nodes (a failover left the older one): the view, at either node, during the run and after it, serves the version the record names, never the other")
    func readViewTwoVersions() throws {
        let dir = TestDirectory("view-versions")
        let source = dir.appending("src.zarr")
        try Scenario.writeArchive(source, ["--shape", "8,2,64,64", "--chunks", "1,2,64,64"])
        let n0 = try AgentProcess(in: dir, name: "n0")
        var n1 = try AgentProcess(in: dir, name: "n1")
        let (url1, root1) = (n1.url, n1.root)
        let coordinator = try Self.clusterCoordinator(dir, source, [n0, n1], placement: "locality")
        defer { coordinator.signal(SIGKILL) }
        try ChildProcess.waitUntil(timeout: .seconds(60), "the archive on the two agents") {
            ((try? TreeComparison.unionDifferences(source: source, destinations: [n0.root + "/acq.zarr", root1 + "/acq.zarr"])) ?? ["?"]).isEmpty
        }
        let key = try #require(try n1.files("acq.zarr").keys.filter { $0.hasPrefix("c/") }.sorted().first)
        let old = try readSmallFile(source + "/" + key)
        n1.process.signal(SIGKILL)
        _ = try n1.process.wait(timeout: .seconds(10))
        // A new version of that chunk (same size: raw uint16) can only go to n0 now.
        let new = old.map { $0 ^ 0x5A }
        TestDirectory.write(bytes: new, to: source + "/" + key + ".__lock")
        #expect(rename(source + "/" + key + ".__lock", source + "/" + key) == 0)
        try ChildProcess.waitUntil(timeout: .seconds(60), "n0 to hold the new version") {
            (try? readSmallFile(n0.root + "/acq.zarr/" + key)) == new
        }
        // n1 comes back holding the older version, with the record it wrote it with.
        n1 = try AgentProcess(in: dir, name: "n1", root: root1, port: Self.port(of: url1))
        #expect(try readSmallFile(root1 + "/acq.zarr/" + key) == old, "n1 still holds the older version")
        // Before its coordinator attaches it again (the run's record is asked) and after.
        let r = try Self.get(n1.url + "/zarr/acq.zarr/" + key)
        #expect((r.status == 200 && r.body == new) || r.status == 503, "\(r.status) \(r.bodyText)")
        try ChildProcess.waitUntil(timeout: .seconds(30), "n1 to be attached again") {
            coordinator.stderr.ranges(of: "attached to agent n1").count >= 2
        }
        let tag = "\"xxh3-\(XXH3Hasher.checksum(new).hex)\""
        for node in [n1, n0] {
            let r = try Self.get(node.url + "/zarr/acq.zarr/" + key)
            #expect(r.status == 200 && r.body == new && r.header("etag") == tag, "\(node.url): \(r.status) \(r.bodyText)")
        }
        TestDirectory.write("", to: source + "/complete")
        #expect(try coordinator.wait(timeout: .seconds(120)) == 0, "\(coordinator.stderr)")
        for node in [n1, n0] {
            let r = try Self.get(node.url + "/zarr/acq.zarr/" + key)
            #expect(r.status == 200 && r.body == new, "\(node.url) after the end: \(r.status) \(r.bodyText)")
        }
    }

    @Test("The read view's HTTP against the real agent: ranges (suffix, open-ended, past the end: 416), HEAD, ETag with If-None-Match (304) and If-Match (412), CORS, the folder index, the token and the read token, and no way out of the root")
    func readViewHTTP() throws {
        let dir = TestDirectory("view-http")
        let source = dir.appending("src.zarr")
        try Scenario.writeArchive(source, ["--shape", "4,2,64,64", "--chunks", "1,2,64,64", "--complete"])
        let (token, readToken) = (dir.appending("token"), dir.appending("read-token"))
        TestDirectory.write("the-shared-token-1234\n", to: token, mode: 0o600)
        TestDirectory.write("only-reading-5678\n", to: readToken, mode: 0o600)
        let agents = try (0..<2).map { try AgentProcess(in: dir, name: "n\($0)", tokenFile: token, extra: ["--read-token-file", readToken]) }
        let (code, log) = try Scenario.coordinator(["--once", "--listen", "127.0.0.1:0", "--token-file", token, "--placement", "balanced"]
                                                   + agents.flatMap { ["--agent", $0.url] } + [source, "acq.zarr"], in: dir)
        #expect(code == 0, "\(log)")
        let reader = "only-reading-5678"
        let base = agents[0].url + "/zarr/acq.zarr/"
        // A chunk n0 does not hold: every answer below goes through the pass-through too.
        let held = try agents[0].files("acq.zarr")
        let key = try #require(try TreeComparison.files(source).keys.filter { $0.hasPrefix("c/") && held[$0] == nil }.sorted().first)
        let bytes = try readSmallFile(source + "/" + key)
        let n = bytes.count

        #expect(try Self.get(base + key).status == 401)
        #expect(try Self.get(base + key, token: "wrong-token-000").status == 401)
        #expect(try Self.get(agents[0].url + "/v1/list?destination=acq.zarr", token: reader).status == 401, "the read token reads the view only")
        let whole = try Self.get(base + key, token: reader)
        #expect(whole.status == 200 && whole.body == bytes && whole.header("accept-ranges") == "bytes")
        #expect(whole.header("content-encoding") == nil && whole.header("access-control-allow-origin") == "*")
        let tag = try #require(whole.header("etag"))
        #expect(tag == "\"xxh3-\(XXH3Hasher.checksum(bytes).hex)\"")

        let suffix = try Self.get(base + key, headers: ["Range: bytes=-16"], token: reader)
        #expect(suffix.status == 206 && suffix.body == Array(bytes.suffix(16)) && suffix.header("content-range") == "bytes \(n - 16)-\(n - 1)/\(n)")
        let open = try Self.get(base + key, headers: ["Range: bytes=100-"], token: reader)
        #expect(open.status == 206 && open.body == Array(bytes[100...]))
        let middle = try Self.get(base + "zarr.json", headers: ["Range: bytes=2-5"], token: reader)
        let metadata = try readSmallFile(source + "/zarr.json")
        #expect(middle.status == 206 && middle.body == Array(metadata[2...5]))
        let beyond = try Self.get(base + key, headers: ["Range: bytes=\(n)-"], token: reader)
        #expect(beyond.status == 416 && beyond.header("content-range") == "bytes */\(n)")
        let head = try Self.get(base + key, method: "HEAD", token: reader)
        #expect(head.status == 200 && head.header("content-length") == String(n) && head.body.isEmpty && head.header("etag") == tag)
        #expect(try Self.get(base + key, headers: ["If-None-Match: \(tag)"], token: reader).status == 304)
        #expect(try Self.get(base + key, headers: ["If-None-Match: \"xxh3-0\""], token: reader).status == 200)
        #expect(try Self.get(base + key, headers: ["If-Match: \"xxh3-0\""], token: reader).status == 412)

        let preflight = try Self.get(base + key, method: "OPTIONS", headers: ["Origin: http://viewer.example", "Access-Control-Request-Headers: range, authorization"])
        #expect(preflight.status == 204 && (preflight.header("access-control-allow-headers") ?? "").contains("Range")
                && (preflight.header("access-control-expose-headers") ?? "").contains("Content-Range"))

        let index = try Self.get(base, token: reader)
        #expect(index.status == 200 && index.bodyText.contains("href=\"zarr.json\"") && index.bodyText.contains("href=\"c/\""), "\(index.bodyText)")
        #expect(try Self.get(base + "c/9/9/9/9", token: reader).status == 404)
        #expect(try Self.get(agents[0].url + "/zarr/nothing-here/zarr.json", token: reader).status == 404)

        // No way out: `..`, and links inside the root (to a file and to a folder outside it).
        // (Raw requests: libcurl would remove the dot segments itself.)
        let port = Self.port(of: agents[0].url)
        for path in ["/zarr/acq.zarr/../../token", "/zarr/acq.zarr/%2E%2E/%2E%2E/token", "/zarr/..", "/zarr/acq.zarr/c/%00"] {
            let connection = try RawConnection(port: port)
            #expect(connection.send(Array("GET \(path) HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(reader)\r\nConnection: close\r\n\r\n".utf8)))
            let answer = connection.receive()
            #expect(RawConnection.status(of: answer) == 400, "\(path): \(String(decoding: answer, as: UTF8.self))")
        }
        #expect(symlink(token, agents[0].root + "/acq.zarr/secret") == 0)
        #expect(symlink(dir.path, agents[0].root + "/outside") == 0)
        for path in ["/zarr/acq.zarr/secret", "/zarr/outside/token", "/zarr/outside/n1/acq.zarr/zarr.json"] {
            let r = try Self.get(agents[0].url + path, token: reader)
            #expect(r.status == 404 && !r.bodyText.contains("the-shared-token"), "\(path): \(r.status) \(r.bodyText)")
        }
    }
}
