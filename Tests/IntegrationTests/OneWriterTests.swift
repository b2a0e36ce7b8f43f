import Glibc
import Testing
import SoftcopyCore
import SoftcopyHTTP
import SoftcopyIO
import SoftcopyTesting

extension IntegrationTests {
    @Test("One destination, one writer (local): a second run on a destination in use is refused naming the holder, the first is correct; another source's copy is refused unless --replace")
    func oneLocalWriter() throws {
        let dir = TestDirectory("one-writer")
        let a = dir.appending("a.zarr"), b = dir.appending("b.zarr"), destination = dir.appending("dst.zarr")
        try Scenario.writeArchive(a, ["--shape", "24,256,256", "--chunks", "1,128,128"])
        try Scenario.writeArchive(b, ["--shape", "12,256,128", "--chunks", "1,64,128"])
        // A slow first run (rate-capped), and two more on the same destination meanwhile.
        let first = try ChildProcess(
            [Tools.coordinator, "--no-discovery", "--once", "--progress", "never", "--max-rate", "512KiB", a, destination],
            logPrefix: dir.appending("first"))
        try ChildProcess.waitUntil(timeout: .seconds(30), "the first run to copy") {
            ((try? TreeComparison.files(destination).count) ?? 0) > 2
        }
        for (name, source) in [("same", a), ("other", b)] {
            let (code, log) = try Scenario.coordinator(["--once", source, destination], in: dir, name: name)
            #expect(code == ExitStatus.usage.rawValue, "\(log)")
            #expect(log.contains("is in use by softcopy-coordinator pid \(first.pid)") && log.contains("copying \(a)"), "\(log)")
        }
        #expect(try first.wait(timeout: .seconds(120)) == 0, "\(first.stderr)")
        #expect(try TreeComparison.differences(source: a, destination: destination) == [])
        // The journal and the manifest record the source too.
        let journal = String(decoding: try readSmallFile(destination + "/.softcopy/journal", limit: Int.max), as: UTF8.self)
        #expect(journal.contains("O \(Clock.hostName()) \(a)\n"), "\(journal.prefix(300))")

        // Another source into the finished copy: refused, nothing touched.
        let before = try TreeComparison.files(destination)
        let (refused, refusedLog) = try Scenario.coordinator(["--once", b, destination], in: dir, name: "other-after")
        #expect(refused == ExitStatus.usage.rawValue, "\(refusedLog)")
        #expect(refusedLog.contains("holds the copy of another source, \(a)") && refusedLog.contains("--replace"), "\(refusedLog)")
        #expect(try TreeComparison.files(destination) == before)
        // The same source again resumes; with --replace the other source takes it over.
        let (resumed, resumedLog) = try Scenario.coordinator(["--once", a, destination], in: dir, name: "resume")
        #expect(resumed == 0 && resumedLog.contains("copied 0 files"), "\(resumedLog)")
        let (replaced, replacedLog) = try Scenario.coordinator(["--once", "--replace", b, destination], in: dir, name: "replace")
        #expect(replaced == 0, "\(replacedLog)")
        #expect(try TreeComparison.differences(source: b, destination: destination) == [])
    }

    @Test("One destination, one writer (agent): a second coordinator is refused (409) and ends naming the holder; after the holder is killed, a new one takes the destination; another source's copy is refused")
    func oneAgentWriter() throws {
        let dir = TestDirectory("one-writer-agent")
        let a = dir.appending("a.zarr"), b = dir.appending("b.zarr")
        try Scenario.writeArchive(a, ["--shape", "24,256,256", "--chunks", "1,128,128"])
        try Scenario.writeArchive(b, ["--shape", "12,256,128", "--chunks", "1,64,128"])
        let agent = try AgentProcess(in: dir, name: "a")
        let first = try ChildProcess(
            [Tools.coordinator, "--no-discovery", "--once", "--progress", "never", "--listen", "127.0.0.1:0", "--max-rate", "512KiB",
             "--agent", agent.url, a, "acq.zarr"],
            logPrefix: dir.appending("first"))
        // A bundle lands whole, at its end: wait for the job, not for files.
        try ChildProcess.waitUntil(timeout: .seconds(30), "the first run to attach") {
            first.stderr.contains("attached to agent")
        }
        let started = Clock.now()
        let (code, log) = try Scenario.coordinator(["--once", "--listen", "127.0.0.1:0", "--agent", agent.url, a, "acq.zarr"], in: dir, name: "second")
        #expect(code == ExitStatus.incomplete.rawValue, "\(log)")
        #expect(log.contains("is in use by job") && log.contains("one destination takes one writer"), "\(log)")
        #expect(Clock.now() - started < .seconds(30), "refused at once, not after a wait")
        // A local run into the same folder (not through the agent) is refused too: the agent
        // holds the destination's lock file, as a local run does.
        let (local, localLog) = try Scenario.coordinator(["--once", a, agent.root + "/acq.zarr"], in: dir, name: "local")
        #expect(local == ExitStatus.usage.rawValue && localLog.contains("is in use by softcopy-agent a"), "\(localLog)")
        // The holder dies: a new coordinator takes the destination and finishes the copy.
        first.signal(SIGKILL)
        _ = try first.wait(timeout: .seconds(10))
        let (taken, takenLog) = try Scenario.coordinator(["--once", "--listen", "127.0.0.1:0", "--agent", agent.url, a, "acq.zarr"], in: dir, name: "third")
        #expect(taken == 0, "\(takenLog)")
        #expect(agent.process.stderr.contains("was abandoned"), "\(agent.process.stderr)")
        #expect(try TreeComparison.differences(source: a, destination: agent.root + "/acq.zarr") == [])
        // Another source into that copy: refused by the agent, by name.
        let (other, otherLog) = try Scenario.coordinator(["--once", "--listen", "127.0.0.1:0", "--agent", agent.url, b, "acq.zarr"], in: dir, name: "other")
        #expect(other == ExitStatus.incomplete.rawValue, "\(otherLog)")
        #expect(otherLog.contains("holds the copy of another source, \(a)"), "\(otherLog)")
        #expect(try TreeComparison.differences(source: a, destination: agent.root + "/acq.zarr") == [])
    }

    @Test("Every wait has an end: an agent that refuses the token ends --once at once; one that is not there ends it after --retry-deadline, naming it")
    func boundedWaits() throws {
        let dir = TestDirectory("bounded")
        let source = dir.appending("src.zarr")
        try Scenario.writeArchive(source, ["--shape", "4,64,64", "--chunks", "1,64,64"])
        let tokenFile = dir.appending("token"), wrongToken = dir.appending("wrong")
        TestDirectory.write("s3cret-token-for-tests\n", to: tokenFile, mode: 0o600)
        TestDirectory.write("not-the-right-token\n", to: wrongToken, mode: 0o600)
        let agent = try AgentProcess(in: dir, name: "a", tokenFile: tokenFile)
        var started = Clock.now()
        let (refused, refusedLog) = try Scenario.coordinator(
            ["--once", "--listen", "127.0.0.1:0", "--token-file", wrongToken, "--agent", agent.url, source, "acq.zarr"], in: dir, name: "refused", timeout: .seconds(60))
        #expect(refused == ExitStatus.incomplete.rawValue, "\(refusedLog)")
        #expect(refusedLog.contains("no agent will take the work: a (\(agent.url)): refused our token (401)"), "\(refusedLog)")
        #expect(Clock.now() - started < .seconds(20))

        // A port nobody listens on (the agent's, after it is gone).
        let gone = agent.url
        agent.process.signal(SIGKILL)
        _ = try agent.process.wait(timeout: .seconds(10))
        started = Clock.now()
        let (absent, absentLog) = try Scenario.coordinator(
            ["--once", "--listen", "127.0.0.1:0", "--retry-deadline", "3s", "--agent", gone, source, "acq.zarr"], in: dir, name: "absent", timeout: .seconds(60))
        #expect(absent == ExitStatus.incomplete.rawValue, "\(absentLog)")
        #expect(absentLog.contains("could not be met for") && absentLog.contains("(retry_deadline)") && absentLog.contains(gone), "\(absentLog)")
        // The grace (10 s) and the deadline (3 s) run together from the first check.
        #expect(Clock.now() - started < .seconds(30))
    }
}
