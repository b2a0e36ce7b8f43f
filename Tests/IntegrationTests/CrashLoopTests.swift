import Glibc
import Testing
import SoftcopyCore
import SoftcopyIO
import SoftcopyTesting

extension IntegrationTests {
    @Test("SIGKILL loops during a live acquisition: coordinator and agents killed again and again, restarted, and the copy ends whole")
    func crashLoops() throws {
        let dir = TestDirectory("crash-loops")
        let source = dir.appending("src.zarr")
        var a = try AgentProcess(in: dir, name: "a")
        var b = try AgentProcess(in: dir, name: "b")
        // Fixed ports from here on, so that restarted agents keep their URLs.
        let ports = [a, b].map { Int($0.url.split(separator: ":").last ?? "") ?? 0 }
        let writer = try ChildProcess(
            [Tools.python, Tools.acquire, source, "--shape", "60,4,128,128", "--chunks", "1,1,64,64", "--rate", "0.5", "--complete"],
            logPrefix: dir.appending("writer"))
        let copies = [a.root, b.root].map { $0 + "/acq.zarr" }
        func held() -> Int { copies.reduce(0) { $0 + ((try? TreeComparison.files($1).count) ?? 0) } }
        func coordinator(_ n: Int) throws -> ChildProcess {
            try ChildProcess(
                [Tools.coordinator, "--no-discovery", "--wait-for-source", "--progress", "never", "--listen", "127.0.0.1:0",
                 "--agent", a.url, "--agent", b.url, source, "acq.zarr"],
                logPrefix: dir.appending("coordinator-\(n)"))
        }
        var kills = (coordinator: 0, agents: 0)
        for round in 0..<3 {
            let c = try coordinator(round)
            let before = held()
            try ChildProcess.waitUntil(timeout: .seconds(60), "round \(round) to copy something") { held() >= before + 20 }
            // Kill an agent in the middle of transfers, then the coordinator, and bring the agent back.
            let victim = round % 2 == 0 ? a : b
            victim.process.signal(SIGKILL)
            _ = try victim.process.wait(timeout: .seconds(10))
            kills.agents += 1
            c.signal(SIGKILL)
            _ = try c.wait(timeout: .seconds(10))
            kills.coordinator += 1
            let restarted = try AgentProcess(in: dir, name: round % 2 == 0 ? "a" : "b", root: victim.root, port: ports[round % 2])
            if round % 2 == 0 { a = restarted } else { b = restarted }
        }
        #expect(writer.isRunning, "the kills must fall while the acquisition runs")
        let last = try coordinator(3)
        #expect(try writer.wait(timeout: .seconds(180)) == 0, "\(writer.stderr)")
        #expect(try last.wait(timeout: .seconds(180)) == 0, "\(last.stderr)")
        print("crash loops: \(kills.coordinator) coordinator kills, \(kills.agents) agent kills during the acquisition")
        // Whole and byte for byte, no partial file under a real name, no temp file left.
        #expect(try TreeComparison.unionDifferences(source: source, destinations: copies) == [])
        for copy in copies {
            #expect(try TreeComparison.files(copy).keys.allSatisfy { !$0.contains(DestinationTree.temporaryPrefix) })
        }
        #expect(last.stderr.contains("softcopy OK"))
        // What the agents already held intact was not sent again by the last coordinator.
        let summary = last.stderr.split(separator: "\n").first { $0.contains(" already there") } ?? ""
        let already = summary.split(separator: ",").first { $0.hasSuffix(" already there") }?
            .split(separator: " ").first.flatMap { Int($0) } ?? 0
        let copied = summary.split(separator: " ").dropFirst().first { Int($0) != nil }.flatMap { Int($0) } ?? 0
        let verified = last.stderr.split(separator: "\n").first { $0.contains(" verified in ") }?
            .split(separator: " ").first.flatMap { Int($0) } ?? -1
        #expect(already > 20 && copied + already == verified, "\(summary); \(verified) verified")
    }
}
