import Glibc
import Testing
import SoftcopyCore
import SoftcopyHTTP
import SoftcopyIO
import SoftcopyTesting

extension IntegrationTests {
    static func health(_ agent: AgentProcess) throws -> JSONValue {
        try JSONParser.parse(bytes: HTTPClient(token: nil).request("GET", agent.url + "/v1/health", timeout: .seconds(5)).body)
    }

    @Test("An agent's data root that changes under it (a filesystem mounted on it mid-run, then the folder removed and made again): it notices, reopens it, says so in health, and the copy ends whole where the path leads")
    func agentRootChanges() throws {
        let dir = TestDirectory("agent-root")
        let source = dir.appending("src.zarr")
        let agent = try AgentProcess(in: dir, name: "a")
        let root = agent.root
        let coordinator = try ChildProcess(
            [Tools.coordinator, "--no-discovery", "--wait-for-source", "--progress", "never", "--listen", "127.0.0.1:0", "--agent", agent.url, source, "acq.zarr"],
            logPrefix: dir.appending("coordinator"))
        defer { coordinator.signal(SIGKILL) }
        let writer = try ChildProcess(
            [Tools.python, Tools.acquire, source, "--shape", "40,2,128,128", "--chunks", "1,2,64,64", "--rate", "1", "--complete"],
            logPrefix: dir.appending("writer"))
        try ChildProcess.waitUntil(timeout: .seconds(60), "some chunks at the agent") { ((try? agent.files("acq.zarr").count) ?? 0) >= 10 }
        // The NAS comes up late: mounted on the root while the agent writes there.
        let mounted = try ChildProcess.run(["/bin/mount", "-t", "tmpfs", "-o", "size=4g", "tmpfs", root], timeout: .seconds(10))
        try #require(mounted.code == 0, "mount: \(mounted.stderr)")
        defer { _ = try? ChildProcess.run(["/bin/umount", "-l", root], timeout: .seconds(10)) }
        #expect(try writer.wait(timeout: .seconds(120)) == 0, "\(writer.stderr)")
        #expect(try coordinator.wait(timeout: .seconds(120)) == 0, "\(coordinator.stderr)")
        #expect(agent.process.stderr.contains("the data root \(root) now leads to another folder"), "\(agent.process.stderr)")
        // Every file is where the path leads now (on the mount), not hidden beneath it.
        #expect(try TreeComparison.differences(source: source, destination: root + "/acq.zarr") == [])
        #expect(try Self.health(agent)["root_reopened"]?.int64Value == 1)

        // Removed and made again: the same, for the next run.
        _ = try ChildProcess.run(["/bin/sh", "-c", "rm -rf \(root)/acq.zarr && umount -l \(root) && rm -rf \(root) && mkdir \(root)"], timeout: .seconds(30))
        let (code, log) = try Scenario.coordinator(["--once", "--listen", "127.0.0.1:0", "--agent", agent.url, source, "acq.zarr"], in: dir, name: "again")
        #expect(code == 0, "\(log)")
        #expect(try TreeComparison.differences(source: source, destination: root + "/acq.zarr") == [])
        #expect(try Self.health(agent)["root_reopened"]?.int64Value == 2)
    }

    @Test("--require-mount: an agent whose root is not a mount point takes no job (503), the coordinator ends after its deadline naming why; once mounted, it does")
    func agentRequiresMount() throws {
        let dir = TestDirectory("require-mount")
        let source = dir.appending("src.zarr")
        try Scenario.writeArchive(source, ["--shape", "4,64,64", "--chunks", "1,64,64"])
        let agent = try AgentProcess(in: dir, name: "a", extra: ["--require-mount"])
        #expect(try Self.health(agent)["root_problem"]?.stringValue?.contains("is not a mount point (--require-mount)") == true)
        let (refused, log) = try Scenario.coordinator(
            ["--once", "--listen", "127.0.0.1:0", "--retry-deadline", "2s", "--agent", agent.url, source, "acq.zarr"], in: dir, name: "unmounted", timeout: .seconds(60))
        #expect(refused == ExitStatus.incomplete.rawValue, "\(log)")
        #expect(log.contains("is not a mount point (--require-mount)"), "\(log)")
        #expect(try agent.files("acq.zarr").isEmpty, "nothing was written beneath the mount point")
        let mounted = try ChildProcess.run(["/bin/mount", "-t", "tmpfs", "-o", "size=4g", "tmpfs", agent.root], timeout: .seconds(10))
        try #require(mounted.code == 0, "mount: \(mounted.stderr)")
        defer { _ = try? ChildProcess.run(["/bin/umount", "-l", agent.root], timeout: .seconds(10)) }
        let (code, copyLog) = try Scenario.coordinator(["--once", "--listen", "127.0.0.1:0", "--agent", agent.url, source, "acq.zarr"], in: dir, name: "mounted")
        #expect(code == 0, "\(copyLog)")
        #expect(try TreeComparison.differences(source: source, destination: agent.root + "/acq.zarr") == [])
        #expect(try Self.health(agent)["root_problem"] == .null)
    }
}
