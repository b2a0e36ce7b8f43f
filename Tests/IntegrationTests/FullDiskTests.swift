import Glibc
import Testing
import SoftcopyCore
import SoftcopyIO
import SoftcopyTesting

extension IntegrationTests {
    /// A tmpfs of `size` mounted at a new folder, unmounted when the returned closure runs.
    static func smallFilesystem(_ dir: TestDirectory, _ name: String, size: String) throws -> (path: String, unmount: () -> Void) {
        let path = dir.appending(name)
        _ = mkdir(path, 0o755)
        let mounted = try ChildProcess.run(["/bin/mount", "-t", "tmpfs", "-o", "size=\(size)", "tmpfs", path], timeout: .seconds(10))
        guard mounted.code == 0 else { throw ChildProcess.Failure(description: "mount tmpfs: \(mounted.stderr)") }
        return (path, { _ = try? ChildProcess.run(["/bin/umount", "-l", path], timeout: .seconds(10)) })
    }

    /// The retry count of the coordinator's summary (`…, 3 retries; …`).
    static func retries(in log: String) -> Int {
        guard let range = log.firstRange(of: " retries;") else { return 0 }
        return Int(log[..<range.lowerBound].reversed().prefix(while: \.isNumber).reversed().map(String.init).joined()) ?? 0
    }

    @Test("An agent that fills up refuses chunks above its reserve (507); they land on the other agent, and the copy is whole")
    func fullAgentHandsOver() throws {
        let dir = TestDirectory("full-agent")
        let source = dir.appending("src.zarr")
        // 48 MiB of 32 KiB chunks, half of it placed on each agent by time point
        // (locality, which ignores free space): more than the small disk holds.
        try Scenario.writeArchive(source, ["--shape", "96,512,512", "--chunks", "1,128,128", "--complete"])
        let (small, unmount) = try Self.smallFilesystem(dir, "small", size: "20m")
        defer { unmount() }
        let tight = try AgentProcess(in: dir, name: "tight", root: small, extra: ["--reserve", "4MiB"])
        let roomy = try AgentProcess(in: dir, name: "roomy")
        let targets = dir.appending("targets.yaml")
        // No reserve at the coordinator: the agent's own reserve is what protects its disk.
        TestDirectory.write("targets:\n  - source: \(source)\n    destination: acq.zarr\n    placement: locality\nfree_space_reserve: 0\n", to: targets)
        let coordinator = try ChildProcess(
            [Tools.coordinator, "--no-discovery", "--once", "--progress", "never", "--listen", "127.0.0.1:0",
             "--agent", tight.url, "--agent", roomy.url, targets],
            logPrefix: dir.appending("coordinator"))
        #expect(try coordinator.wait(timeout: .seconds(180)) == 0, "\(coordinator.stderr)")
        #expect(try TreeComparison.unionDifferences(source: source, destinations: [small + "/acq.zarr", roomy.root + "/acq.zarr"]) == [])
        // The small disk filled up to its reserve with chunks, and no further (the
        // transfer threads share what they promise); only the manifest written at the
        // end, and a page for each metadata file, may go below it.
        let free = FileSystemSpace.of(small).free
        let manifest = try FileStatus.of(small + "/acq.zarr/" + Manifest.relativePath.string)?.version.size ?? 0
        let slack = (manifest + 4095) / 4096 * 4096 + 4 * 4096
        #expect(free + slack >= 4 << 20, "\(free) bytes left on the small disk, manifest \(manifest) bytes")
        #expect(free < 6 << 20, "\(free) bytes left on the small disk: it never filled up")
        #expect(try Self.chunks(small + "/acq.zarr").count > 256)
        // No temp file was left behind by a write that ran out of space.
        #expect(try TreeComparison.files(small).keys.allSatisfy { !$0.contains(".softcopy-tmp-") })
        print("full disk: \(try Self.chunks(small + "/acq.zarr").count) chunks on the small disk, \(Self.retries(in: coordinator.stderr)) transfers refused by the full agent (507) and placed again; \(free) bytes left on its disk")
    }

    @Test("No agent with room: the run stops, naming the nodes and the bytes still to place; what landed stays")
    func noRoomAnywhere() throws {
        let dir = TestDirectory("no-room")
        let source = dir.appending("src.zarr")
        try Scenario.writeArchive(source, ["--shape", "64,512,512", "--chunks", "1,256,256", "--complete"])
        let (small, unmount) = try Self.smallFilesystem(dir, "small", size: "16m")
        defer { unmount() }
        let tight = try AgentProcess(in: dir, name: "tight", root: small, extra: ["--reserve", "4M"])
        let targets = dir.appending("targets.yaml")
        TestDirectory.write("targets:\n  - source: \(source)\n    destination: acq.zarr\nfree_space_reserve: 0\n", to: targets)
        let coordinator = try ChildProcess(
            [Tools.coordinator, "--no-discovery", "--once", "--progress", "never", "--listen", "127.0.0.1:0", "--agent", tight.url, targets],
            logPrefix: dir.appending("coordinator"))
        #expect(try coordinator.wait(timeout: .seconds(120)) == ExitStatus.incomplete.rawValue, "\(coordinator.stderr)")
        #expect(coordinator.stderr.contains("no node has room for files of about ") && coordinator.stderr.contains("above the free-space reserve"), "\(coordinator.stderr)")
        #expect(coordinator.stderr.contains("tight (") && coordinator.stderr.contains("still to place"), "\(coordinator.stderr)")
        // It said so at the start, before the disk filled up.
        #expect(coordinator.stderr.contains("but the agents have only"), "\(coordinator.stderr)")
        // What landed is intact.
        let landed = try TreeComparison.files(small + "/acq.zarr")
        let original = try TreeComparison.files(source)
        #expect(!landed.isEmpty && landed.allSatisfy { original[$0.key] == $0.value })
        print("no room anywhere: \(landed.count) of \(original.count) files landed intact before the run stopped")
    }

    @Test("A full local destination: --once refuses a copy that cannot fit; live, the first ENOSPC ends the run with one message and no manifest is claimed")
    func fullLocalDestination() throws {
        let dir = TestDirectory("full-local")
        let source = dir.appending("src.zarr")
        try Scenario.writeArchive(source, ["--shape", "60,512,256", "--chunks", "1,128,256"])
        let (small, unmount) = try Self.smallFilesystem(dir, "small", size: "8m")
        defer { unmount() }
        // A finished source that cannot fit: said at once, by the numbers.
        let (code, log) = try Scenario.coordinator(["--once", source, small + "/once.zarr"], in: dir, name: "once")
        #expect(code == ExitStatus.incomplete.rawValue, "\(log)")
        #expect(log.contains("are still to copy there; the copy cannot fit"), "\(log)")
        #expect(!log.contains("retrying") && !log.contains("softcopy OK") && !log.contains("manifest:"), "\(log)")
        #expect(log.split(separator: "\n").count < 10, "a few lines, not one per file: \(log)")
        _ = try ChildProcess.run(["/bin/rm", "-rf", small + "/once.zarr"], timeout: .seconds(10))

        // Live: the acquisition outgrows the disk while it is copied.
        let liveSource = dir.appending("live.zarr"), copy = small + "/live.zarr"
        let copier = try ChildProcess(
            [Tools.coordinator, "--no-discovery", "--wait-for-source", "--progress", "never", liveSource, copy],
            logPrefix: dir.appending("live"))
        defer { copier.signal(SIGKILL) }
        let writer = try ChildProcess([Tools.python, Tools.acquire, liveSource, "--shape", "60,512,256", "--chunks", "1,128,256", "--complete"],
                                      logPrefix: dir.appending("writer"))
        #expect(try copier.wait(timeout: .seconds(120)) == ExitStatus.incomplete.rawValue, "\(copier.stderr)")
        _ = try writer.wait(timeout: .seconds(120))
        #expect(copier.stderr.contains("the destination \(copy) is full (No space left on device)"), "\(copier.stderr)")
        #expect(copier.stderr.contains("still to copy; stopping"), "\(copier.stderr)")
        #expect(!copier.stderr.contains("manifest:") && !copier.stderr.contains("softcopy OK"), "\(copier.stderr)")
        #expect(copier.stderr.split(separator: "\n").count < 15, "one message, not one per file: \(copier.stderr)")
        // What landed is intact, and journaled.
        let landed = try TreeComparison.files(copy)
        let original = try TreeComparison.files(liveSource)
        #expect(landed.allSatisfy { original[$0.key] == $0.value })
        #expect(try statusOf(copy + "/" + Manifest.relativePath.string) == nil, "no manifest was written")
    }
}
