import Glibc
import Testing
import SoftcopyCore
import SoftcopyIO
import SoftcopyTesting

extension IntegrationTests {
    /// A throwaway CA and a certificate for 127.0.0.1 (tools/test_certs.sh, real openssl).
    private static func certificates(_ dir: TestDirectory) throws -> String {
        let folder = dir.appending("tls")
        _ = mkdir(folder, 0o755)
        let (code, _, stderr) = try ChildProcess.run(["/bin/bash", Tools.testCertificates, folder], timeout: .seconds(60))
        guard code == 0 else { throw ChildProcess.Failure(description: "test_certs.sh failed: \(stderr)") }
        return folder
    }

    @Test("TLS on both servers: the copy goes over HTTPS, each side verifies the other's certificate, and plain HTTP gets nothing")
    func tlsBothWays() throws {
        let dir = TestDirectory("tls")
        let tls = try Self.certificates(dir)
        let source = dir.appending("src.zarr")
        try Scenario.writeArchive(source, ["--shape", "6,2,64,64", "--complete"])
        let tokenFile = dir.appending("token")
        TestDirectory.write("tls-test-token\n", to: tokenFile, mode: 0o600)
        let serverOptions = ["--tls-cert", tls + "/cert.pem", "--tls-key", tls + "/key.pem", "--tls-ca", tls + "/ca.pem"]
        let agent = try AgentProcess(in: dir, name: "store", tokenFile: tokenFile, extra: serverOptions)
        #expect(agent.url.hasPrefix("https://127.0.0.1:"), "\(agent.url)")

        // A client that trusts the CA gets an answer; one that does not is refused by its
        // own verification; plain HTTP to the TLS port gets no HTTP answer at all.
        let trusted = try ChildProcess.run(["/usr/bin/curl", "-sS", "--cacert", tls + "/ca.pem", agent.url + "/v1/health"], timeout: .seconds(20))
        #expect(trusted.code == 0 && trusted.stdout.contains("\"role\":\"agent\""), "\(trusted)")
        let untrusted = try ChildProcess.run(["/usr/bin/curl", "-sS", "--cacert", tls + "/other-ca.pem", agent.url + "/v1/health"], timeout: .seconds(20))
        #expect(untrusted.code == 60, "curl exit 60: the certificate does not chain to the CA given: \(untrusted)")
        let port = Int(agent.url.split(separator: ":").last!)!
        let plain = try RawConnection(port: port)
        plain.send(Array("GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        #expect(RawConnection.status(of: plain.receive()) == nil, "no HTTP answer in clear text")

        let targets = dir.appending("targets.yaml")
        TestDirectory.write("""
            targets:
              - source: \(source)
                destination: acq.zarr
            free_space_reserve: 0
            token_file: \(tokenFile)
            tls_cert: tls/cert.pem
            tls_key: tls/key.pem
            tls_ca: tls/ca.pem
            """, to: targets)
        let coordinator = try ChildProcess(
            [Tools.coordinator, "--no-discovery", "--once", "--progress", "never", "--listen", "127.0.0.1:0", "--agent", agent.url, targets],
            logPrefix: dir.appending("coordinator"))
        #expect(try coordinator.wait(timeout: .seconds(120)) == 0, "\(coordinator.stderr)")
        #expect(coordinator.stderr.contains("coordinator API listening on https://127.0.0.1:"), "\(coordinator.stderr)")
        #expect(coordinator.stderr.contains("it pulls from https://127.0.0.1:"), "\(coordinator.stderr)")
        #expect(try TreeComparison.differences(source: source, destination: agent.root + "/acq.zarr") == [])
    }

    @Test("A coordinator that does not trust the agent's certificate says so and sends it nothing")
    func tlsUntrustedAgent() throws {
        let dir = TestDirectory("tls-untrusted")
        let tls = try Self.certificates(dir)
        let source = dir.appending("src.zarr")
        try Scenario.writeArchive(source, ["--shape", "2,1,32,32", "--complete"])
        let agent = try AgentProcess(in: dir, name: "store", extra: ["--tls-cert", tls + "/cert.pem", "--tls-key", tls + "/key.pem"])
        let coordinator = try ChildProcess(
            [Tools.coordinator, "--no-discovery", "--once", "--progress", "never", "--listen", "127.0.0.1:0",
             "--tls-ca", tls + "/other-ca.pem", "--agent", agent.url, source, "acq.zarr"],
            logPrefix: dir.appending("coordinator"))
        defer { coordinator.signal(SIGKILL) }
        try ChildProcess.waitUntil(timeout: .seconds(30), "the coordinator to report the certificate") {
            coordinator.stderr.contains("SSL certificate problem")
        }
        #expect(coordinator.stderr.contains("agent \(agent.url): not trusted: its TLS certificate does not verify"), "\(coordinator.stderr)")
        #expect(try statusOf(agent.root + "/acq.zarr") == nil, "nothing was sent to an agent that could not be verified")
    }

    @Test("Unusable TLS files are a clear error at start", arguments: ["missing", "garbage", "wrong-key"])
    func tlsBadFiles(_ case_: String) throws {
        let dir = TestDirectory("tls-bad")
        let tls = try Self.certificates(dir)
        TestDirectory.write("not a certificate\n", to: tls + "/garbage.pem")
        let (cert, key, expected): (String, String, String) = switch case_ {
        case "missing": (tls + "/nope.pem", tls + "/key.pem", "cannot read the TLS certificate \(tls)/nope.pem: No such file or directory")
        case "garbage": (tls + "/garbage.pem", tls + "/key.pem", "cannot load the TLS certificate \(tls)/garbage.pem")
        default: (tls + "/ca.pem", tls + "/key.pem", "does the key belong to the certificate?")
        }
        let root = dir.appending("root")
        _ = mkdir(root, 0o755)
        let agent = try ChildProcess.run(
            [Tools.agent, "--no-advertise", "--root", root, "--host", "127.0.0.1", "--port", "0", "--tls-cert", cert, "--tls-key", key],
            timeout: .seconds(30))
        #expect(agent.code == ExitStatus.usage.rawValue, "\(agent)")
        #expect(agent.stderr.contains(expected), "\(agent.stderr)")
        let source = dir.appending("src.zarr")
        _ = mkdir(source, 0o755)
        let coordinator = try ChildProcess.run(
            [Tools.coordinator, "--no-discovery", "--once", "--progress", "never", "--listen", "127.0.0.1:0",
             "--tls-cert", cert, "--tls-key", key, "--agent", "http://127.0.0.1:9", source, "acq.zarr"],
            timeout: .seconds(30))
        #expect(coordinator.code == ExitStatus.usage.rawValue, "\(coordinator)")
        #expect(coordinator.stderr.contains(expected), "\(coordinator.stderr)")
    }
}
