import Glibc
import Testing
import SoftcopyCore
import SoftcopyIO
import SoftcopyTesting

extension IntegrationTests {
    /// A test server (`tools/NAME`) on a loopback port it picked and wrote to a file.
    private func receiver(_ name: String, _ dir: TestDirectory, _ arguments: [String]) throws -> (process: ChildProcess, port: String) {
        let portFile = dir.appending(name + ".port")
        let process = try ChildProcess([Tools.python, Tools.packageRoot + "/tools/" + name, portFile] + arguments, logPrefix: dir.appending(name))
        try ChildProcess.waitUntil(timeout: .seconds(20), "\(name) to listen") { (try? FileStatus.of(portFile)).flatMap { $0 } != nil }
        return (process, String(decoding: try readSmallFile(portFile), as: UTF8.self))
    }

    @Test("notify: one webhook POST, one mail and one command run per archive, with its verdict: done for a verified copy, failed for an incomplete one; a receiver that fails at first is tried again")
    func notifications() throws {
        let dir = TestDirectory("notify")
        let received = dir.appending("received.jsonl"), mailed = dir.appending("mailed.jsonl")
        let (webhook, port) = try receiver("webhook_receiver.py", dir, [received, "--fail-first", "1"])
        defer { webhook.signal(SIGKILL) }
        let (smtp, smtpPort) = try receiver("smtp_receiver.py", dir, [mailed])
        defer { smtp.signal(SIGKILL) }
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
              email:
                smtp: smtp://127.0.0.1:\(smtpPort)
                from: softcopy@acq-pc.example.org
                to: [lab@example.org, admin@example.org]
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

        let mails = try String(decoding: readSmallFile(mailed), as: UTF8.self).split(separator: "\n").map { try JSONParser.parse(bytes: Array($0.utf8)) }
        #expect(mails.count == 2, "one mail per archive: \(mails)")
        for mail in mails {
            #expect(mail["from"]?.stringValue == "softcopy@acq-pc.example.org")
            #expect(mail["to"]?.arrayValue?.compactMap(\.stringValue) == ["lab@example.org", "admin@example.org"])
        }
        let subjects = mails.compactMap { $0["content"]?.stringValue?.split(separator: "\r\n").first { $0.hasPrefix("Subject: ") } }
        #expect(Set(subjects) == ["Subject: softcopy verified: \(good)", "Subject: softcopy incomplete: \(bad)"], "\(subjects)")

        // A job refused before it began (its source is missing) is a failure too, with why.
        let missing = dir.appending("missing.zarr"), refusedTargets = dir.appending("refused.yaml")
        TestDirectory.write("""
            targets:
              - source: \(missing)
                destination: \(dir.appending("missing-copy.zarr"))
            notify:
              webhook: http://127.0.0.1:\(port)/hook
            """, to: refusedTargets)
        let (refusedCode, refusedLog) = try Scenario.coordinator(["--once", refusedTargets], in: dir, name: "refused")
        #expect(refusedCode == ExitStatus.usage.rawValue, "\(refusedLog)")
        let all = try String(decoding: readSmallFile(received), as: UTF8.self).split(separator: "\n").map { try JSONParser.parse(bytes: Array($0.utf8)) }
        let refused = all.filter { $0["source"]?.stringValue == missing }
        #expect(refused.count == 1 && refused[0]["event"]?.stringValue == "failed" && refused[0]["status"]?.stringValue == "refused"
                && refused[0]["exit_code"]?.int64Value == 2 && refused[0]["reason"]?.stringValue?.contains("does not exist") == true, "\(refused)")
    }
}
