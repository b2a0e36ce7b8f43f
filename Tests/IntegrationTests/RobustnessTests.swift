import Glibc
import Testing
import SoftcopyCore
import SoftcopyIO
import SoftcopyTesting

extension IntegrationTests {
    @Test("an inotify queue overflow is followed by a rescan that misses nothing")
    func queueOverflow() throws {
        try Tools.requireRealParts()
        let dir = TestDirectory("overflow")
        let source = dir.appending("src.zarr"), destination = dir.appending("dst.zarr")
        _ = mkdir(source, 0o755)
        _ = try ChildProcess.run(["/bin/sh", "-c", "echo start > \(source)/marker-before"], timeout: .seconds(10))

        // The queue limit is fixed when an inotify instance is made: lower it only while
        // the coordinator starts watching.
        let sysctl = "/proc/sys/fs/inotify/max_queued_events"
        let original = String(decoding: try readSmallFile(sysctl), as: UTF8.self).filter(\.isNumber)
        try ChildProcess.run(["/bin/sh", "-c", "echo 32 > \(sysctl)"], timeout: .seconds(10))
        let copier: ChildProcess
        do {
            defer { _ = try? ChildProcess.run(["/bin/sh", "-c", "echo \(original) > \(sysctl)"], timeout: .seconds(10)) }
            copier = try ChildProcess([Tools.coordinator, "--no-discovery", "--progress", "never", source, destination], logPrefix: dir.appending("coordinator"))
            // The first file reaching the copy proves the watcher's inotify instance exists.
            try ChildProcess.waitUntil(timeout: .seconds(60), "the first copy") {
                (try? statusOf(destination + "/marker-before")) != nil
            }
        }
        // Stopped, the coordinator cannot read events while the writer makes hundreds.
        copier.signal(SIGSTOP)
        // A flat layout (v2, "." separator): every chunk's events land in the watched root.
        try Scenario.writeArchive(source, ["--format", "v2", "--separator", ".", "--shape", "6,2,64,64", "--complete"])
        copier.signal(SIGCONT)

        #expect(try copier.wait(timeout: .seconds(120)) == 0, "\(copier.stderr)")
        #expect(copier.stderr.contains("inotify event queue overflowed; rescanning"))
        #expect(try TreeComparison.differences(source: source, destination: destination) == [])
        let manifest = try JSONParser.parse(bytes: readSmallFile(destination + "/" + Manifest.relativePath.string))
        #expect(manifest["found_by_final_rescan"]?.int64Value == 0, "the overflow rescan found everything, not the final one")
    }

    @Test("a root deleted and recreated mid-run (zarr open_group mode='w') is copied as the new archive")
    func rootRecreated() throws {
        let dir = TestDirectory("recreate")
        let run = try Scenario.liveCopy(in: dir, writer: ["--writer", "zarr", "--ome", "--shape", "6,2,64,64", "--recreate-after", "4", "--complete"])
        #expect(run.writerCode == 0, "\(run.failureContext)")
        #expect(run.coordinatorCode == 0, "\(run.failureContext)")
        #expect(run.coordinatorLog.contains("disappeared"))
        #expect(run.coordinatorLog.contains("is back"))
        // The new archive has 2 time points; the old one's time points 2 and 3 are gone.
        #expect(try run.differences() == [])
        #expect((try run.manifest()["statistics"]?["deleted_files"]?.int64Value ?? 0) > 0)
        #expect(try statusOf(run.destination + "/0/c/3") == nil, "empty folders follow the source too")
    }

    @Test("a source removed mid-run never empties its copy")
    func sourceRemovedKeepsCopy() throws {
        let dir = TestDirectory("removed")
        let (copier, source, destination) = try Scenario.watchingCopier(in: dir)
        let writer = try Scenario.lockstepWriter(in: dir, [])
        #expect(try writer.wait(timeout: .seconds(120)) == 0, "\(writer.stderr)")
        let copied = try TreeComparison.files(destination)
        try ChildProcess.run(["/bin/rm", "-rf", source], timeout: .seconds(30))
        try ChildProcess.waitUntil(timeout: .seconds(30), "the coordinator to notice") { copier.stderr.contains("disappeared") }
        copier.signal(SIGUSR1)
        #expect(try copier.wait(timeout: .seconds(60)) == ExitStatus.incomplete.rawValue, "\(copier.stderr)")
        #expect(copier.stderr.contains("the source archive disappeared; the destination was kept as it is"))
        #expect(try TreeComparison.files(destination) == copied, "not one file was deleted")
    }

    @Test("two targets from one targets file, written by different writers")
    func twoTargets() throws {
        try Tools.requireRealParts()
        let dir = TestDirectory("two")
        let yaml = """
            # softcopy's format, plus our own keys
            targets:
              - source: a.zarr
                destination: out/a.zarr
              - source: b.zarr
                destination: out/b.zarr
                writer: atomic
            nprocs: 3
            wait_for_source: true
            """
        try ChildProcess.run(["/bin/sh", "-c", "cat > \(dir.appending("targets.yaml")) <<'EOF'\n\(yaml)\nEOF"], timeout: .seconds(10))
        let copier = try ChildProcess([Tools.coordinator, "--no-discovery", "--progress", "never", dir.appending("targets.yaml")], logPrefix: dir.appending("coordinator"))
        let a = try ChildProcess([Tools.python, Tools.acquire, dir.appending("a.zarr"), "--lockstep", dir.appending("out/a.zarr"), "--complete"], logPrefix: dir.appending("a"))
        let b = try ChildProcess([Tools.python, Tools.acquire, dir.appending("b.zarr"), "--writer", "zarr", "--format", "v2", "--lockstep", dir.appending("out/b.zarr"), "--complete"], logPrefix: dir.appending("b"))
        #expect(try a.wait(timeout: .seconds(120)) == 0, "\(a.stderr)")
        #expect(try b.wait(timeout: .seconds(120)) == 0, "\(b.stderr)")
        #expect(try copier.wait(timeout: .seconds(120)) == 0, "\(copier.stderr)")
        #expect(try TreeComparison.differences(source: dir.appending("a.zarr"), destination: dir.appending("out/a.zarr")) == [])
        #expect(try TreeComparison.differences(source: dir.appending("b.zarr"), destination: dir.appending("out/b.zarr")) == [])
    }
}
