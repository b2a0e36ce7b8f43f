import Glibc
import Testing
import SoftcopyCore
import SoftcopyIO
import SoftcopyTesting

/// `remove_source` with real writers and the real binaries. The reference each copy is
/// compared with is the same acquisition written again by the same (seeded) writer into
/// a folder of its own: the source itself is gone by then.
extension IntegrationTests {
    static let removalWriters: [[String]] = [["--writer", "tensorstore"], ["--writer", "zarr"]]

    /// The acquisition the removal tests write: two time points per chunk along time, so
    /// each chunk is written twice (read, merged, written back) as the frames arrive.
    static let removalAcquisition = ["--shape", "24,2,64,64", "--chunks", "2,1,32,32", "--rate", "0.06", "--complete"]

    private func reference(_ dir: TestDirectory, _ writer: [String], extra: [String] = []) throws -> String {
        let path = dir.appending("reference.zarr")
        try Scenario.writeArchive(path, writer + Self.removalAcquisition.filter { $0 != "--rate" && $0 != "0.06" } + extra)
        return path
    }

    private func exists(_ path: String) -> Bool {
        (try? FileStatus.of(path)).flatMap { $0 } != nil
    }

    private func manifestAt(_ root: String) throws -> JSONValue {
        try JSONParser.parse(bytes: readSmallFile(root + "/" + Manifest.relativePath.string))
    }

    @Test("after-verify on a live acquisition: the source is gone at the end, the copy equals the acquisition, exit 0", arguments: removalWriters)
    func removeAfterVerify(writer: [String]) throws {
        let dir = TestDirectory("remove-after")
        let copier = try Scenario.watchingCopier(in: dir, options: ["--remove-source", "after-verify", "--quiet-period", "0.3", "--checksums", "sha256"])
        let acquisition = try ChildProcess([Tools.python, Tools.acquire, copier.source] + writer + Self.removalAcquisition, logPrefix: dir.appending("writer"))
        #expect(try acquisition.wait(timeout: .seconds(120)) == 0, "\(acquisition.stderr)")
        #expect(try copier.process.wait(timeout: .seconds(120)) == 0, "\(copier.process.stderr)")
        #expect(try statusOf(copier.source) == nil, "the source folder is gone")
        #expect(try statusOf(RemovalJournal.location(ofSource: copier.source)) == nil)
        let reference = try reference(dir, writer)
        #expect(try TreeComparison.differences(source: reference, destination: copier.destination) == [])
        let removal = try manifestAt(copier.destination)["source_removal"]
        #expect(removal?["removed_files"]?.int64Value == Int64(try TreeComparison.files(reference).count), "\(String(describing: removal))")
        #expect(removal?["source_root_removed"] == .bool(true))
        let said = copier.process.stdout + copier.process.stderr
        #expect(said.contains("source removed (remove_source: after-verify)"), "\(said)")
        // With the source gone, verify checks the copy against its manifest.
        let verify = try ChildProcess.run([Tools.coordinator, "verify", "--no-discovery", copier.source, copier.destination], timeout: .seconds(60))
        #expect(verify.code == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.contains("(the source is gone): whole"), "\(verify.stdout)")
        // And without softcopy: the checksum lists, with the tools BagIt and Globus users have.
        for (tool, list) in [("xxh128sum", "xxh128sums"), ("sha256sum", "sha256sums")] {
            let check = try ChildProcess.run(["/bin/sh", "-c", "cd \"$0\" && exec \(tool) -c --quiet .softcopy/\(list)", copier.destination], timeout: .seconds(60))
            #expect(check.code == 0, "\(tool): \(check.stdout)\(check.stderr)")
        }
    }

    @Test("live through two agents with replicas 2: the source shrinks during the acquisition, and every removed file is on both agents, byte for byte", arguments: removalWriters)
    func removeLiveWithReplicas(writer: [String]) throws {
        let dir = TestDirectory("remove-live")
        let a = try AgentProcess(in: dir, name: "a"), b = try AgentProcess(in: dir, name: "b")
        let source = dir.appending("src.zarr")
        let coordinator = try ChildProcess(
            [Tools.coordinator, "--no-discovery", "--wait-for-source", "--progress", "never", "--listen", "127.0.0.1:0", "--quiet-period", "0.2",
             "--replicas", "2", "--agent", a.url, "--agent", b.url, "--remove-source", "live", source, "acq.zarr"],
            logPrefix: dir.appending("coordinator"))
        let acquisition = try ChildProcess([Tools.python, Tools.acquire, source] + writer + Self.removalAcquisition, logPrefix: dir.appending("writer"))
        #expect(try acquisition.wait(timeout: .seconds(120)) == 0, "\(acquisition.stderr)")
        #expect(try coordinator.wait(timeout: .seconds(120)) == 0, "\(coordinator.stderr)")
        #expect(try statusOf(source) == nil, "nothing could not be copied, so nothing is left")
        let reference = try reference(dir, writer)
        for agent in [a, b] {
            #expect(try TreeComparison.differences(source: reference, destination: agent.root + "/acq.zarr") == [], "\(agent.root)")
        }
        // Removed while the acquisition ran: before the end marker was written.
        let manifest = try manifestAt(a.root + "/acq.zarr")
        let entries = manifest["entries"]?.arrayValue ?? []
        let end = try #require(try statusOf(a.root + "/acq.zarr/complete")).mtimeNanoseconds
        let during = entries.filter { ($0["removed_from_source_ns"]?.int64Value ?? .max) < end }
        #expect(!during.isEmpty, "no chunk was removed during the acquisition")
        #expect(during.allSatisfy { $0["path"]?.stringValue?.hasPrefix("0/c/") == true || $0["path"]?.stringValue?.hasPrefix("c/") == true }, "only chunks go while live")
        #expect(entries.allSatisfy { $0["nodes"]?.arrayValue?.count == 2 && $0["removed_from_source_ns"] != nil })
    }

    @Test("live on an OME-Zarr group with a 0-d array: that array is named as kept until the verdict, the rest goes live, and all of it at the end")
    func removeLiveNamesWhatItKeeps() throws {
        let dir = TestDirectory("remove-ome")
        let copier = try Scenario.watchingCopier(in: dir, options: ["--remove-source", "live", "--quiet-period", "0.2"])
        let writer = ["--writer", "tensorstore", "--ome", "--scalar"]
        let acquisition = try ChildProcess([Tools.python, Tools.acquire, copier.source] + writer + Self.removalAcquisition, logPrefix: dir.appending("writer"))
        #expect(try acquisition.wait(timeout: .seconds(120)) == 0, "\(acquisition.stderr)")
        #expect(try copier.process.wait(timeout: .seconds(120)) == 0, "\(copier.process.stderr)")
        #expect(copier.process.stderr.contains("remove_source live: array scalar of \(copier.source) keeps its chunks until the verdict: it has no dimensions"),
                "\(copier.process.stderr)")
        #expect(try statusOf(copier.source) == nil)
        #expect(try TreeComparison.differences(source: try reference(dir, writer), destination: copier.destination) == [])
    }

    @Test("live: a writer that goes back to a chunk it had left loses nothing: the copy keeps what was removed, the source keeps the new write, and the run names the chunk", arguments: removalWriters)
    func removeLiveWriterGoesBack(writer: [String]) throws {
        let dir = TestDirectory("remove-back")
        let copier = try Scenario.watchingCopier(in: dir, options: ["--remove-source", "live", "--quiet-period", "0.2"])
        let acquisition = try ChildProcess([Tools.python, Tools.acquire, copier.source] + writer + Self.removalAcquisition + ["--go-back", "0"],
                                           logPrefix: dir.appending("writer"))
        #expect(try acquisition.wait(timeout: .seconds(120)) == 0, "\(acquisition.stderr)")
        #expect(try copier.process.wait(timeout: .seconds(120)) == ExitStatus.incomplete.rawValue, "\(copier.process.stderr)")
        // The chunks of time point 0 were removed long before the writer came back: the copy
        // holds them as they were, the source the writer's new versions (fill elsewhere).
        let reference = try TreeComparison.files(try reference(dir, writer))
        let copy = try TreeComparison.files(copier.destination)
        let left = try TreeComparison.files(copier.source)
        let firstChunks = reference.keys.filter { $0.hasPrefix("c/0/0/") }
        try #require(!firstChunks.isEmpty)
        for key in firstChunks {
            #expect(copy[key] == reference[key], "\(key): the copy keeps the version that was removed")
        }
        #expect(firstChunks.contains { left[$0] != nil }, "the writer's new version stays at the source")
        let said = copier.process.stdout + copier.process.stderr
        #expect(said.contains("written again at the source after softcopy removed it"), "\(said)")
        #expect(said.contains("source NOT removed"), "\(said)")
    }

    @Test("a coordinator SIGKILLed while it removes the source, then restarted: every file is at the destination or still at the source, and the run finishes")
    func removeKilledMidway() throws {
        let dir = TestDirectory("remove-kill")
        let source = dir.appending("src.zarr"), destination = dir.appending("dst.zarr"), aside = dir.appending("aside.zarr")
        // Many small chunks, so the removal lasts long enough to be caught in the middle.
        try Scenario.writeArchive(source, ["--shape", "3000,2,8,8", "--chunks", "1,1,8,8", "--cheap-frames", "--complete"])
        #expect(try ChildProcess.run(["/bin/cp", "-a", source, aside], timeout: .seconds(60)).code == 0)
        let total = try TreeComparison.files(aside).count
        let first = try ChildProcess([Tools.coordinator, "--no-discovery", "--progress", "never", "--once", "--remove-source", "after-verify", source, destination],
                                     logPrefix: dir.appending("first"))
        let journal = RemovalJournal.location(ofSource: source)
        var caughtMidway = false
        try ChildProcess.waitUntil(timeout: .seconds(120), "the first removal") {
            // Caught once a file is removed (an X line after the plan), not merely planned.
            let removing = ((try? readSmallFile(journal, limit: 64 << 20)) ?? []).split(separator: UInt8(ascii: "\n")).contains { $0.first == UInt8(ascii: "X") }
            guard removing || !first.isRunning else { return false }
            first.signal(SIGKILL)
            caughtMidway = exists(source)
            return true
        }
        _ = try first.wait(timeout: .seconds(30))
        // Nothing is lost: each file of the acquisition is at the destination or at the source.
        let atSource = try TreeComparison.files(source), atDestination = try TreeComparison.files(destination)
        let original = try TreeComparison.files(aside)
        for (key, bytes) in original {
            #expect(atDestination[key] == bytes || atSource[key] == bytes, "\(key) is lost")
        }
        // The restarted run finishes: the copy is whole and the source gone.
        let (code, log) = try Scenario.coordinator(["--once", "--remove-source", "after-verify", source, destination], in: dir, name: "second")
        #expect(code == 0, "\(log)")
        #expect(try TreeComparison.differences(source: aside, destination: destination) == [])
        #expect(try statusOf(source) == nil && (try statusOf(journal)) == nil)
        let removal = try manifestAt(destination)["source_removal"]
        let now = Int(removal?["removed_files"]?.int64Value ?? 0), earlier = Int(removal?["removed_by_earlier_runs"]?.int64Value ?? 0)
        #expect(now + earlier == total, "\(String(describing: removal))")
        if caughtMidway { #expect(atSource.count < total, "the first run was stopped after it had removed a file") }
        // The checksum list checks the copy without softcopy.
        let check = try ChildProcess.run(["/bin/sh", "-c", "cd \"$0\" && exec xxh128sum -c --quiet .softcopy/xxh128sums", destination], timeout: .seconds(60))
        #expect(check.code == 0, "\(check.stdout)\(check.stderr)")
    }
}
