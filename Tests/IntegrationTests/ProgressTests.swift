import Testing
import SoftcopyCore
import SoftcopyTesting

extension IntegrationTests {
    @Test("Without a terminal the progress line is logged (files, bytes, rate, elapsed time), and --progress never keeps it out")
    func progressLoggedWithoutTerminal() throws {
        let dir = TestDirectory("progress")
        let source = dir.appending("src.zarr")
        try Scenario.writeArchive(source, ["--shape", "8,2,64,64", "--chunks", "1,1,32,32", "--complete"])
        // stderr is a pipe here, as under systemd: `auto` logs the line.
        let logged = try ChildProcess.run([Tools.coordinator, "--no-discovery", "--once", source, dir.appending("a.zarr")], timeout: .seconds(120))
        #expect(logged.code == 0, "\(logged.stderr)")
        let line = logged.stderr.split(separator: "\n").first { $0.contains("info: softcopy ") && $0.contains(" files  ") }
        #expect(line?.contains("elapsed ") == true && line?.contains("B/s  ") == true, "\(logged.stderr)")
        let quiet = try ChildProcess.run([Tools.coordinator, "--no-discovery", "--once", "--progress", "never", source, dir.appending("b.zarr")], timeout: .seconds(120))
        #expect(quiet.code == 0 && !quiet.stderr.contains(" elapsed "), "\(quiet.stderr)")
    }
}
