import Glibc
import Testing
import SoftcopyCore
import SoftcopyIO
import SoftcopyTesting

extension IntegrationTests {
    @Test("notify: one webhook POST and one command run per archive, with its verdict: done for a verified copy, failed for an incomplete one; a receiver that fails at first is tried again")
    func notifications() throws {
        let dir = TestDirectory("notify")
        let portFile = dir.appending("port"), received = dir.appending("received.jsonl")
        let receiver = try ChildProcess([Tools.python, Tools.packageRoot + "/tools/webhook_receiver.py", portFile, received, "--fail-first", "1"],
                                        logPrefix: dir.appending("receiver"))
        defer { receiver.signal(SIGKILL) }
        try ChildProcess.waitUntil(timeout: .seconds(20), "the receiver to listen") { (try? FileStatus.of(portFile)).flatMap { $0 } != nil }
        let port = String(decoding: try readSmallFile(portFile), as: UTF8.self)
        let good = dir.appending("good.zarr"), bad = dir.appending("bad.zarr")
        try Scenario.writeArchive(good, ["--shape", "4,64,64", "--chunks", "1,32,32", "--complete"])
        try Scenario.writeArchive(bad, ["--shape", "4,64,64", "--chunks", "1,32,32", "--complete"])
        #expect(mkfifo(bad + "/a-pipe", 0o644) == 0)
        let targets = dir.appending("targets.yaml")
        TestDirectory.write("""
            targets:
              - source: \(good)
                destination: \(dir.appending("good-copy.zarr"))
              - source: \(bad)
                destination: \(dir.appending("bad-copy.zarr"))
            notify:
              webhook: http://127.0.0.1:\(port)/hook
              command: env | grep '^SOFTCOPY_' | grep -v '^SOFTCOPY_SUMMARY' > "\(dir.path)/command-$(basename "$SOFTCOPY_SOURCE").env"
            """, to: targets)
        let (code, log) = try Scenario.coordinator(["--once", targets], in: dir)
        #expect(code == ExitStatus.incomplete.rawValue, "\(log)")

        let messages = try String(decoding: readSmallFile(received), as: UTF8.self).split(separator: "\n").map { try JSONParser.parse(bytes: Array($0.utf8)) }
        #expect(messages.count == 2, "one accepted message per archive: \(messages)")
        let bySource = Dictionary(uniqueKeysWithValues: messages.map { ($0["source"]?.stringValue ?? "", $0) })
        #expect(bySource[good]?["event"]?.stringValue == "done" && bySource[good]?["status"]?.stringValue == "verified")
        #expect(bySource[good]?["files"]?.int64Value == Int64(try TreeComparison.files(good).count))
        #expect(bySource[bad]?["event"]?.stringValue == "failed" && bySource[bad]?["exit_code"]?.int64Value == 1)
        #expect(bySource[bad]?["first_problems"]?.arrayValue?.first?.stringValue?.hasPrefix("a-pipe: ") == true, "\(String(describing: bySource[bad]))")

        let goodEnv = String(decoding: try readSmallFile(dir.appending("command-good.zarr.env")), as: UTF8.self)
        #expect(goodEnv.contains("SOFTCOPY_STATUS=verified\n") && goodEnv.contains("SOFTCOPY_EVENT=done\n") && goodEnv.contains("SOFTCOPY_SOURCE=\(good)\n"), "\(goodEnv)")
        #expect(goodEnv.contains("SOFTCOPY_FILES=\(try TreeComparison.files(good).count)\n") && goodEnv.contains("SOFTCOPY_MANIFEST=\(dir.appending("good-copy.zarr"))/.softcopy/manifest.json\n"), "\(goodEnv)")
        let badEnv = String(decoding: try readSmallFile(dir.appending("command-bad.zarr.env")), as: UTF8.self)
        #expect(badEnv.contains("SOFTCOPY_EVENT=failed\n") && badEnv.contains("SOFTCOPY_EXIT_CODE=1\n") && badEnv.contains("SOFTCOPY_PROBLEMS=1\n"), "\(badEnv)")
    }
}
