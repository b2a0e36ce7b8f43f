import Glibc
import Testing
import SoftcopyCore
import SoftcopyHTTP
import SoftcopyIO
import SoftcopyTesting

extension IntegrationTests {
    /// Sends `count` mutated requests to 127.0.0.1:`port`, each on its own connection, and
    /// returns how many got an HTTP answer (the rest were closed without one).
    static func hammer(port: Int, seeds: [String], count: Int) throws -> (answered: Int, statuses: [Int: Int]) {
        var mutator = InputMutator(seed: 7, seeds: seeds, dictionary: [
            "\r\n", "\r\n\r\n", "Content-Length: 99999999999\r\n", "Transfer-Encoding: chunked\r\n", "%2e%2e/", "../",
            "Authorization: Bearer x\r\n", "Host: \r\n", " HTTP/1.1", "\u{0}", "GET ", "POST ",
        ])
        var statuses: [Int: Int] = [:]
        var answered = 0
        for _ in 0..<count {
            let connection = try RawConnection(port: port)
            connection.send(mutator.input())
            connection.finishSending()
            if let status = RawConnection.status(of: connection.receive(limit: 4096)) {
                answered += 1
                statuses[status, default: 0] += 1
            }
        }
        return (answered, statuses)
    }

    static let requestSeeds = [
        "GET /v1/health HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /v1/list?destination=acq.zarr&recursive=1&checksums=1 HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /v1/files/acq.zarr/c/0/0 HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n",
        "POST /v1/jobs HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 110\r\n\r\n{\"job\": \"j1\", \"coordinator\": \"http://127.0.0.1:9\", \"agent\": 1, \"targets\": [{\"index\": 0, \"destination\": \"acq.zarr\"}]}",
        "POST /v1/jobs/j1/lease HTTP/1.1\r\nHost: a\r\nContent-Length: 40\r\n\r\n{\"agent\": 1, \"max_items\": 4, \"wait_ms\": 0}",
        "PUT /v1/jobs/j1/targets/0/manifest HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n{}",
    ]

    @Test("Garbage and slow clients: an agent answers hundreds of mangled requests with errors, not crashes, and keeps serving")
    func agentSurvivesHostileClients() throws {
        let dir = TestDirectory("hostile-agent")
        let agent = try AgentProcess(in: dir, name: "a")
        guard let port = Int(agent.url.split(separator: ":").last ?? "") else { throw ChildProcess.Failure(description: "no port in \(agent.url)") }
        let (answered, statuses) = try Self.hammer(port: port, seeds: Self.requestSeeds, count: 400)
        #expect(answered > 100, "\(statuses)")
        #expect(statuses[500] == nil, "no request may make the agent fail internally: \(statuses)")
        // 200 clients that send half a request line and then nothing hold sockets, not threads.
        let slow = try (0..<200).map { _ in try RawConnection(port: port) }
        for connection in slow { connection.send(Array("GET /v1/hea".utf8)) }
        let client = HTTPClient(token: nil)
        let health = try client.request("GET", agent.url + "/v1/health", timeout: .seconds(5))
        #expect(health.status == 200)
        #expect(agent.process.isRunning)
        // Nothing was written outside the root, and nothing but folders the requests named inside it.
        #expect(try TreeComparison.files(agent.root).isEmpty)
        _ = slow
    }

    @Test("Garbage clients against the coordinator's API: errors, not crashes, and it keeps serving")
    func coordinatorSurvivesHostileClients() throws {
        let dir = TestDirectory("hostile-coordinator")
        let source = dir.appending("src.zarr")
        _ = mkdir(source, 0o755)
        TestDirectory.write(#"{"zarr_format": 3, "node_type": "group"}"#, to: source + "/zarr.json")
        let a = try AgentProcess(in: dir, name: "a")
        let coordinator = try ChildProcess(
            [Tools.coordinator, "--no-discovery", "--progress", "never", "--listen", "127.0.0.1:0", "--agent", a.url, source, "acq.zarr"],
            logPrefix: dir.appending("coordinator"))
        let url = try Self.coordinatorURL(coordinator)
        guard let port = Int(url.split(separator: ":").last ?? "") else { throw ChildProcess.Failure(description: "no port in \(url)") }
        let seeds = Self.requestSeeds + [
            "GET /v1/jobs/j1/targets/0/files/zarr.json?lease=1 HTTP/1.1\r\nHost: a\r\n\r\n",
            "POST /v1/jobs/j1/ack HTTP/1.1\r\nHost: a\r\nContent-Length: 30\r\n\r\n{\"agent\": 1, \"results\": []}",
            "GET /v1/status HTTP/1.1\r\nHost: a\r\n\r\n",
        ]
        let (answered, statuses) = try Self.hammer(port: port, seeds: seeds, count: 400)
        #expect(answered > 100, "\(statuses)")
        #expect(statuses[500] == nil, "\(statuses)")
        let health = try HTTPClient(token: nil).request("GET", url + "/v1/health", timeout: .seconds(5))
        #expect(health.status == 200)
        #expect(coordinator.isRunning)
        coordinator.signal(SIGTERM)
        #expect(try coordinator.wait(timeout: .seconds(60)) == ExitStatus.interrupted.rawValue)
    }
}
