import Glibc
import Testing
import SoftcopyCore
import SoftcopyIO
import SoftcopyTesting

extension IntegrationTests {
    /// Both run as nobody, as the systemd units run them as an unprivileged user: this is
    /// also the test that the servers work without root (they once set SO_DEBUG, which
    /// only root may, instead of TCP_NODELAY, and reset every connection).
    @Test("a write the agent is not allowed to make is a permanent error: named with its cause, not retried, the rest copied")
    func agentPermissionDenied() throws {
        let dir = TestDirectory("agent-perm")
        let source = dir.appending("src.zarr")
        try Scenario.writeArchive(source, ["--shape", "4,1,32,32", "--complete"])
        _ = chmod(dir.path, 0o755)
        // The agent runs as nobody; one chunk folder in its copy belongs to root.
        let agent = try AgentProcess(in: dir, name: "store", user: 65534)
        _ = mkdir(agent.root + "/acq.zarr", 0o755)
        _ = chown(agent.root + "/acq.zarr", 65534, 65534)
        _ = mkdir(agent.root + "/acq.zarr/c", 0o755)
        _ = chown(agent.root + "/acq.zarr/c", 65534, 65534)
        _ = mkdir(agent.root + "/acq.zarr/c/2", 0o755)
        let targets = dir.appending("targets.yaml")
        TestDirectory.write("targets:\n  - source: \(source)\n    destination: acq.zarr\nfree_space_reserve: 0\n", to: targets)
        let coordinator = try ChildProcess(
            ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", Tools.coordinator, "--no-discovery", "--once", "--progress", "never", "--listen", "127.0.0.1:0", "--agent", agent.url, targets],
            logPrefix: dir.appending("coordinator"))
        #expect(try coordinator.wait(timeout: .seconds(120)) == ExitStatus.incomplete.rawValue, "\(coordinator.stderr)")
        let log = coordinator.stderr
        #expect(log.contains("c/2/0/0/0: on agent store: mkdir \(agent.root)/acq.zarr/c/2/0: Permission denied"), "\(log)")
        #expect(!log.contains("retrying"), "a permanent error is not retried: \(log)")
        #expect(log.contains(" 0 retries"), "\(log)")
        let differences = try TreeComparison.differences(source: source, destination: agent.root + "/acq.zarr")
        #expect(differences == ["missing at the destination: c/2/0/0/0"], "\(log)")
    }
}
