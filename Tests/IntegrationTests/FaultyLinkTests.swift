import Glibc
import Testing
import SoftcopyCore
import SoftcopyIO
import SoftcopyTesting

extension IntegrationTests {
    /// With compression too: a compressed chunk cut short is refused and sent again.
    @Test("A faulty link between agent and coordinator (connections reset and stalled at random): the copy still ends whole",
          arguments: ["never", "always"])
    func faultyLink(wireCompression: String) throws {
        let dir = TestDirectory("faulty-link")
        let source = dir.appending("src.zarr")
        // An OME-Zarr pyramid: 288 KiB chunks fetched alone, 72 KiB ones in bundles;
        // camera-like images, which compress.
        try Scenario.writeArchive(source, ["--shape", "16,1,384,384", "--chunks", "1,1,384,384", "--ome", "--image", "microscopy", "--complete"])
        let a = try AgentProcess(in: dir, name: "a")
        let port = try RawConnection.freePort()
        let counts = dir.appending("faults.json")
        // The agent reaches the coordinator only through the proxy: leases, chunk bytes and acks.
        let proxy = try ChildProcess(
            [Tools.python, Tools.faultyProxy, "--target", "127.0.0.1:\(port)", "--reset", "0.08", "--delay", "0.1",
             "--delay-ms", "300", "--seed", "11", "--counts", counts, "--max-seconds", "300"],
            logPrefix: dir.appending("proxy"))
        var proxyPort: Int?
        try ChildProcess.waitUntil(timeout: .seconds(20), "the proxy to listen") {
            proxyPort = proxy.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" }).last.flatMap { Int($0) }
            return proxyPort != nil
        }
        let coordinator = try ChildProcess(
            [Tools.coordinator, "--no-discovery", "--once", "--progress", "never", "--listen", "127.0.0.1:\(port)",
             "--advertise-url", "http://127.0.0.1:\(proxyPort!)", "--lease-timeout", "3s", "--wire-compression", wireCompression,
             "--agent", a.url, source, "acq.zarr"],
            logPrefix: dir.appending("coordinator"))
        #expect(try coordinator.wait(timeout: .seconds(240)) == 0, "\(coordinator.stderr)")
        #expect(coordinator.stderr.contains("compressed on the wire") == (wireCompression == "always"), "\(coordinator.stderr)")
        proxy.signal(SIGTERM)
        _ = try proxy.wait(timeout: .seconds(10))
        let faults = try JSONParser.parse(bytes: readSmallFile(counts))
        print("faulty link: \(faults.serialized())")
        #expect((faults["resets"]?.uint64Value ?? 0) > 5, "\(faults.serialized())")
        #expect(try TreeComparison.differences(source: source, destination: a.root + "/acq.zarr") == [])
    }
}
