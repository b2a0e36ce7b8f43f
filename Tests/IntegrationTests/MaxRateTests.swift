import Glibc
import Testing
import SoftcopyCore
import SoftcopyHTTP
import SoftcopyIO
import SoftcopyTesting

extension IntegrationTests {
    @Test("max_rate changed while running: a copy held to 100 kB/s (40 s of work) is let go by PUT /v1/max_rate off, or by SIGHUP after the targets file's max_rate became a timetable that is off now; a bad timetable is refused with 400 and changes nothing",
          arguments: ["api", "sighup"])
    func maxRateChangedWhileRunning(how: String) throws {
        let dir = TestDirectory("max-rate-\(how)")
        let source = dir.appending("src.zarr")
        // 4 MiB: 42 s at 100 kB/s, well beyond the wait below.
        try Scenario.writeArchive(source, ["--shape", "8,2,256,512", "--chunks", "1,1,256,512", "--complete"])
        let targets = dir.appending("targets.yaml")
        TestDirectory.write("targets:\n  - source: \(source)\n    destination: \(dir.appending("dst.zarr"))\nmax_rate: 100K\n", to: targets)
        let coordinator = try ChildProcess([Tools.coordinator, "--no-discovery", "--once", "--progress", "never", "--listen", "127.0.0.1:0", targets],
                                           logPrefix: dir.appending("coordinator"))
        defer { coordinator.signal(SIGKILL) }
        let url = try Self.coordinatorURL(coordinator)
        let client = HTTPClient(token: nil)
        let before = try JSONParser.parse(bytes: client.request("GET", url + "/v1/max_rate", timeout: .seconds(10)).body)
        #expect(before["max_rate"]?.stringValue == "100000" && before["now"]?.uint64Value == 100_000, "\(before)")
        let refused = try client.request("PUT", url + "/v1/max_rate", body: Array("25:00,1M".utf8), contentType: "text/plain", timeout: .seconds(10))
        #expect(refused.status == 400 && refused.bodyText.contains("not a time of day"), "\(refused.status) \(refused.bodyText)")
        if how == "api" {
            let set = try client.request("PUT", url + "/v1/max_rate", body: Array("off".utf8), contentType: "text/plain", timeout: .seconds(10))
            #expect(set.status == 200, "\(set.bodyText)")
            let after = try JSONParser.parse(bytes: set.body)
            #expect(after["max_rate"]?.stringValue == "off" && after["now"] == .null, "\(after)")
        } else {
            // Off at every minute of the day: the entries cover it whatever the local time.
            TestDirectory.write("targets:\n  - source: \(source)\n    destination: \(dir.appending("dst.zarr"))\nmax_rate: '00:00,off 12:00,off'\n", to: targets)
            coordinator.signal(SIGHUP)
        }
        #expect(try coordinator.wait(timeout: .seconds(25)) == 0, "\(coordinator.stderr)")
        #expect(coordinator.stderr.contains("max_rate is now"), "\(coordinator.stderr)")
        #expect(try TreeComparison.unionDifferences(source: source, destinations: [dir.appending("dst.zarr")]) == [])
    }
}
