import Glibc
import Testing
import SoftcopyCore
import SoftcopyIO
import SoftcopyTesting

extension IntegrationTests {
    @Test("A faulty link between agent and coordinator (connections reset and stalled at random): the copy still ends whole")
    func faultyLink() throws {
        let dir = TestDirectory("faulty-link")
        let source = dir.appending("src.zarr")
        try Scenario.writeArchive(source, ["--shape", "40,256,256", "--chunks", "1,128,128", "--complete"])
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
             "--advertise-url", "http://127.0.0.1:\(proxyPort!)", "--lease-timeout", "3s", "--agent", a.url, source, "acq.zarr"],
            logPrefix: dir.appending("coordinator"))
        #expect(try coordinator.wait(timeout: .seconds(240)) == 0, "\(coordinator.stderr)")
        proxy.signal(SIGTERM)
        _ = try proxy.wait(timeout: .seconds(10))
        let faults = try JSONParser.parse(bytes: readSmallFile(counts))
        print("faulty link: \(faults.serialized())")
        #expect((faults["resets"]?.uint64Value ?? 0) > 5, "\(faults.serialized())")
        #expect(try TreeComparison.differences(source: source, destination: a.root + "/acq.zarr") == [])
    }
}
