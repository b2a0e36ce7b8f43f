import Glibc
import Testing
import SoftcopyCore
import SoftcopyIO
import SoftcopyTesting

extension IntegrationTests {
    @Test("Symbolic links: inside the archive they are copied as what they point to (a chunk, a folder, the root itself); outside, dangling or looping ones, and special files, are problems unless follow or skip says otherwise")
    func symbolicLinks() throws {
        let dir = TestDirectory("symlinks")
        let real = dir.appending("real.zarr"), root = dir.appending("root.zarr")
        try Scenario.writeArchive(real, ["--shape", "2,1,32,32", "--chunks", "1,1,32,32"])
        #expect(symlink(real, root) == 0)
        #expect(symlink("c/0/0/0/0", real + "/chunk-link") == 0)
        _ = mkdir(real + "/extra", 0o755)
        #expect(symlink("../c", real + "/extra/c-link") == 0)
        let chunk = try readSmallFile(real + "/c/0/0/0/0")

        // Inside only: exit 0, the links' bytes at the destination as files and folders.
        let (code, log) = try Scenario.coordinator(["--once", root, dir.appending("inside")], in: dir, name: "inside")
        #expect(code == 0, "\(log)")
        let copied = try TreeComparison.files(dir.appending("inside"))
        #expect(copied["chunk-link"] == chunk && copied["extra/c-link/0/0/0/0"] == chunk, "\(copied.keys.sorted())")
        #expect(try statusOf(dir.appending("inside/extra/c-link")) != nil && (try FileStatus.of(dir.appending("inside/extra/c-link")))?.kind == .directory)
        let verified = try ChildProcess.run([Tools.coordinator, "verify", "--no-discovery", root, dir.appending("inside")], timeout: .seconds(60))
        #expect(verified.code == 0, "\(verified.stdout)\(verified.stderr)")
        // Through an agent, the same.
        let agent = try AgentProcess(in: dir, name: "a")
        let (agentCode, agentLog) = try Scenario.coordinator(["--once", "--listen", "127.0.0.1:0", "--agent", agent.url, root, "acq.zarr"], in: dir, name: "agent")
        #expect(agentCode == 0, "\(agentLog)")
        #expect(try agent.files("acq.zarr")["chunk-link"] == chunk)

        // A link out of the archive: a problem by default, copied with follow, listed with skip.
        let outside = dir.appending("outside.bin")
        TestDirectory.write("bytes from outside the archive", to: outside)
        #expect(symlink(outside, real + "/outside") == 0)
        let (refused, refusedLog) = try Scenario.coordinator(["--once", root, dir.appending("default")], in: dir, name: "default")
        #expect(refused == ExitStatus.incomplete.rawValue, "\(refusedLog)")
        #expect(refusedLog.contains("outside: not copied: a symbolic link to \(outside), outside the archive"), "\(refusedLog)")
        let (followed, followedLog) = try Scenario.coordinator(["--once", "--symlinks", "follow", root, dir.appending("follow")], in: dir, name: "follow")
        #expect(followed == 0, "\(followedLog)")
        #expect(try readSmallFile(dir.appending("follow/outside")) == Array("bytes from outside the archive".utf8))
        let (skipped, skippedLog) = try Scenario.coordinator(["--once", "--symlinks", "skip", root, dir.appending("skip")], in: dir, name: "skip")
        #expect(skipped == 0 && skippedLog.contains("symbolic links at the source left out (symlinks: skip) (3)"), "\(skippedLog)")
        #expect(try statusOf(dir.appending("skip/outside")) == nil && statusOf(dir.appending("skip/chunk-link")) == nil)

        // What no policy can copy: a dangling link, a loop, a FIFO. Each is named; the walk ends.
        #expect(symlink("nowhere", real + "/dangling") == 0)
        #expect(symlink("..", real + "/extra/up") == 0)
        #expect(mkfifo(real + "/fifo", 0o644) == 0)
        let (broken, brokenLog) = try Scenario.coordinator(["--once", "--symlinks", "follow", root, dir.appending("broken")], in: dir, name: "broken")
        #expect(broken == ExitStatus.incomplete.rawValue, "\(brokenLog)")
        for expected in ["dangling: not copied: a symbolic link to nowhere, which does not exist", "extra/up: not copied: a symbolic link to \(real), a folder it lies in (a loop)",
                         "fifo: not copied: a special file"] {
            #expect(brokenLog.contains(expected), "\(expected) in \(brokenLog)")
        }
        let check = try ChildProcess.run([Tools.coordinator, "verify", "--no-discovery", "--symlinks", "follow", root, dir.appending("broken")], timeout: .seconds(60))
        #expect(check.code == 1 && check.stdout.contains("fifo: not copied"), "\(check.stdout)")
    }
}
