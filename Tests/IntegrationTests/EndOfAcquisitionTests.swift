import Glibc
import Testing
import SoftcopyCore
import SoftcopyIO
import SoftcopyTesting

extension IntegrationTests {
    @Test("--writer-pid: a killed writer's half-written lock file is reported, never copied")
    func crashedWriterLeftovers() throws {
        try Tools.requireRealParts()
        let dir = TestDirectory("crash")
        let source = dir.appending("src.zarr"), destination = dir.appending("dst.zarr")
        let writer = try ChildProcess(
            [Tools.python, Tools.acquire, source, "--lockstep", destination, "--crash-after", "3"], logPrefix: dir.appending("writer"))
        let (code, log) = try Scenario.coordinator(["--wait-for-source", "--writer-pid", "\(writer.pid)", source, destination], in: dir)
        #expect(try writer.wait(timeout: .seconds(60)) == 1, "the writer simulates a crash")
        #expect(code == ExitStatus.verifiedWithLeftovers.rawValue, "\(log)")
        #expect(log.contains("LEFTOVERS of a crashed writer"))
        #expect(log.contains("c/3/0/0/0.__lock"))
        #expect(try statusOf(destination + "/c/3/0/0/0.__lock") == nil)
        #expect(try statusOf(destination + "/c/3/0/0/0") == nil, "nothing of the unfinished chunk")
        #expect(try TreeComparison.differences(source: source, destination: destination) == [])
        let manifest = try JSONParser.parse(bytes: readSmallFile(destination + "/" + Manifest.relativePath.string))
        #expect(manifest["status"]?.stringValue == "verified-with-leftovers")
        #expect(manifest["leftovers"]?.arrayValue?.compactMap(\.stringValue) == ["c/3/0/0/0.__lock"])
        #expect(manifest["end"]?["reason"]?.stringValue == "writer-exited")
    }

    @Test("--writer-pid naming no running process is a usage error")
    func writerPidMissing() throws {
        let dir = TestDirectory("nopid")
        try Scenario.writeArchive(dir.appending("src.zarr"), [])
        // PID 1 exists in any namespace; find one that does not.
        var pid: Int32 = 4_000_000
        while kill(pid, 0) == 0 { pid -= 1 }
        let (code, log) = try Scenario.coordinator(["--writer-pid", "\(pid)", dir.appending("src.zarr"), dir.appending("dst.zarr")], in: dir)
        #expect(code == ExitStatus.usage.rawValue)
        #expect(log.contains("--writer-pid \(pid): no such process"))
        #expect(try statusOf(dir.appending("dst.zarr")) == nil, "nothing is created on a usage error")
    }

    @Test("--idle-timeout ends an acquisition that just stops, after a rescan confirms it")
    func idleTimeout() throws {
        let dir = TestDirectory("idle")
        let run = try Scenario.liveCopy(in: dir, writer: [], coordinator: ["--idle-timeout", "1"])
        #expect(run.writerCode == 0)
        #expect(run.coordinatorCode == 0, "\(run.failureContext)")
        #expect(try run.differences() == [])
        #expect(try run.manifest()["end"]?["reason"]?.stringValue == "idle-timeout")
        #expect(run.coordinatorLog.contains("not confirmed by the writer"))
    }

    @Test("SIGUSR1 from the operator ends the acquisition")
    func operatorSignal() throws {
        let dir = TestDirectory("usr1")
        let (copier, source, destination) = try Scenario.watchingCopier(in: dir)
        let writer = try Scenario.lockstepWriter(in: dir, [])
        #expect(try writer.wait(timeout: .seconds(120)) == 0, "\(writer.stderr)")
        #expect(copier.isRunning, "no end marker yet, so still watching")
        copier.signal(SIGUSR1)
        #expect(try copier.wait(timeout: .seconds(60)) == 0, "\(copier.stderr)")
        #expect(try TreeComparison.differences(source: source, destination: destination) == [])
        let manifest = try JSONParser.parse(bytes: readSmallFile(destination + "/" + Manifest.relativePath.string))
        #expect(manifest["end"]?["reason"]?.stringValue == "operator-signal")
    }

    @Test("destination files changed after they were verified are found by the end check and copied again")
    func endCheckRecopies() throws {
        let dir = TestDirectory("endcheck")
        let (copier, source, destination) = try Scenario.watchingCopier(in: dir)
        // More files than one slice of the end check, so its work is shared out.
        let writer = try Scenario.lockstepWriter(in: dir, ["--shape", "3,100,8,8", "--chunks", "1,1,8,8"])
        #expect(try writer.wait(timeout: .seconds(120)) == 0, "\(writer.stderr)")
        // The lockstep writer has seen every file land; now two of them change under the copy.
        #expect(unlink(destination + "/c/1/50/0/0") == 0)
        try ChildProcess.run(["/bin/sh", "-c", "printf x >> \(destination)/c/2/99/0/0"], timeout: .seconds(10))
        copier.signal(SIGUSR1)
        #expect(try copier.wait(timeout: .seconds(60)) == 0, "\(copier.stderr)")
        #expect(copier.stderr.contains("2 destination files are no longer as verified"), "\(copier.stderr)")
        #expect(try TreeComparison.differences(source: source, destination: destination) == [])
    }

    @Test("SIGTERM stops early with exit 3; running again finishes the copy")
    func interruptAndResume() throws {
        try Tools.requireRealParts()
        let dir = TestDirectory("term")
        let source = dir.appending("src.zarr"), destination = dir.appending("dst.zarr")
        try Scenario.writeArchive(source, ["--shape", "4,2,64,64"])
        let copier = try ChildProcess([Tools.coordinator, "--no-discovery", "--progress", "never", source, destination], logPrefix: dir.appending("first"))
        try ChildProcess.waitUntil(timeout: .seconds(60), "the coordinator to start watching") { copier.stderr.contains("watching") }
        copier.signal(SIGTERM)
        #expect(try copier.wait(timeout: .seconds(60)) == ExitStatus.interrupted.rawValue)
        #expect(copier.stderr.contains("run the same command again to resume"))
        let (code, log) = try Scenario.coordinator(["--once", source, destination], in: dir, name: "second")
        #expect(code == 0, "\(log)")
        #expect(try TreeComparison.differences(source: source, destination: destination) == [])
    }

    @Test("--once copies a finished archive, and a second --once sends nothing again")
    func onceTwice() throws {
        let dir = TestDirectory("once")
        let source = dir.appending("src.zarr"), destination = dir.appending("dst.zarr")
        try Scenario.writeArchive(source, ["--shape", "6,2,64,64", "--ome"])
        let first = try Scenario.coordinator(["--once", "--verify-full", source, destination], in: dir, name: "first")
        #expect(first.code == 0, "\(first.log)")
        #expect(try TreeComparison.differences(source: source, destination: destination) == [])
        let files = try TreeComparison.files(source).count
        let second = try Scenario.coordinator(["--once", source, destination], in: dir, name: "second")
        #expect(second.code == 0, "\(second.log)")
        let manifest = try JSONParser.parse(bytes: readSmallFile(destination + "/" + Manifest.relativePath.string))
        #expect(manifest["statistics"]?["copied_files"]?.int64Value == 0)
        #expect(manifest["files"]?.int64Value == Int64(files))
        #expect(second.log.contains("\(files) files already verified by an earlier run"))
    }

    @Test("a destination filled by another tool is adopted by checksum, not rewritten")
    func adoptsIdenticalFiles() throws {
        let dir = TestDirectory("adopt")
        let source = dir.appending("src.zarr"), destination = dir.appending("dst.zarr")
        try Scenario.writeArchive(source, ["--shape", "4,2,64,64"])
        try ChildProcess.run(["/bin/cp", "-r", source, destination], timeout: .seconds(60))
        // One file differs: it must be replaced; another is not in the source: left alone.
        try ChildProcess.run(["/bin/sh", "-c", "printf x >> \(destination)/c/0/0/0/0 && echo notes > \(destination)/notes.txt"], timeout: .seconds(10))
        let (code, log) = try Scenario.coordinator(["--once", source, destination], in: dir)
        #expect(code == 0, "\(log)")
        let manifest = try JSONParser.parse(bytes: readSmallFile(destination + "/" + Manifest.relativePath.string))
        #expect(manifest["statistics"]?["copied_files"]?.int64Value == 1, "only the altered file is written")
        #expect(manifest["extraneous"]?.arrayValue?.compactMap(\.stringValue) == ["notes.txt"])
        let differences = try TreeComparison.differences(source: source, destination: destination)
        #expect(differences == ["only at the destination: notes.txt"])
    }
}
