import Glibc
import Synchronization
import Testing
import SoftcopyCore
import SoftcopyCoordinator
import SoftcopyIO
import SoftcopyTesting

/// `verify` with the source gone (or `--against-manifest`): the copy is checked against
/// the manifest the run stored, on every node.
@Suite("In process: verify against the manifest")
struct ManifestVerifyTests {
    /// `verify` run in process, with the lines it prints.
    private func verify(_ configuration: CoordinatorConfiguration) -> (SoftcopyCore.ExitStatus, [String]) {
        let lines = Mutex<[String]>([])
        let status = CopyVerifier(configuration: configuration) { line in lines.withLock { $0.append(line) } }.run()
        return (status, lines.withLock { $0 })
    }

    private func removeTree(_ path: String) throws {
        _ = try ChildProcess.run(["/bin/rm", "-rf", path], timeout: .seconds(30))
    }

    /// `xxh128sum -c` (Debian's xxhash) on the checksum list a run left at `root`: its exit code and what it said.
    private func xxh128sumCheck(_ root: String) throws -> (code: Int32, output: String) {
        try check("xxh128sum", "xxh128sums", at: root)
    }

    /// `<tool> -c` on the list `.softcopy/<list>` a run left at `root`.
    private func check(_ tool: String, _ list: String, at root: String) throws -> (code: Int32, output: String) {
        let run = try ChildProcess.run(["/bin/sh", "-c", "cd \"$0\" && exec \(tool) -c --quiet .softcopy/\(list)", root], timeout: .seconds(30))
        return (run.code, run.stdout + run.stderr)
    }

    @Test("A local copy with its source removed: whole; one flipped byte or one deleted chunk names the file and the node")
    func localWithoutSource() throws {
        let dir = TestDirectory("ip-mverify-local")
        let source = SourceScript(root: dir.appending("src"), chunks: 5)
        source.writeChunks(0..<5)
        let destination = dir.appending("dst")
        let configuration = InProcessRun.configuration(source: source.root, destination: destination)
        #expect(try InProcessRun.run(configuration) == .verified)
        try removeTree(source.root)

        // The checksum list checks with xxh128sum alone: every file, and nothing else.
        #expect(try xxh128sumCheck(destination).code == 0)
        #expect(try readSmallFile(destination + "/" + ChecksumList.relativePath.string).split(separator: UInt8(ascii: "\n")).count == 7)

        let (whole, said) = verify(configuration)
        #expect(whole == .verified, "\(said)")
        #expect(said.first?.contains("against its manifest of ") == true && said.first?.contains("(the source is gone): whole. 7 files") == true, "\(said)")

        var flipped = try readSmallFile(destination + "/" + SourceScript.chunk(3))
        flipped[100] ^= 0x01
        TestDirectory.write(bytes: flipped, to: destination + "/" + SourceScript.chunk(3))
        let flippedCheck = try xxh128sumCheck(destination)
        #expect(flippedCheck.code != 0 && flippedCheck.output.contains(SourceScript.chunk(3)), "\(flippedCheck)")
        let (damaged, damagedSaid) = verify(configuration)
        #expect(damaged == .incomplete)
        #expect(damagedSaid.contains("  \(SourceScript.chunk(3)): different bytes on \(Clock.hostName())"), "\(damagedSaid)")

        unlink(destination + "/" + SourceScript.chunk(1))
        let (missing, missingSaid) = verify(configuration)
        #expect(missing == .incomplete)
        #expect(missingSaid.contains { $0.hasPrefix("  \(SourceScript.chunk(1)): missing: no node holds it (not on \(Clock.hostName()), where the manifest puts it)") }, "\(missingSaid)")
    }

    @Test("Through two agents: each manifest names its own path; with the source removed: whole; a flipped byte names the agent that holds it, a deleted file the agent that should")
    func agentsWithoutSource() throws {
        let dir = TestDirectory("ip-mverify-agents")
        let source = SourceScript(root: dir.appending("src"), chunks: 8)
        source.writeChunks(0..<8)
        let stores = try (1...2).map { try InProcessAgent(root: dir.appending("store\($0)"), name: "store\($0)") }
        defer { stores.forEach { $0.stop() } }
        let configuration = InProcessRun.configuration(source: source.root, destination: "dst", agents: stores)
        #expect(try InProcessRun.run(configuration) == .verified)
        // The manifest each agent stores names the copy's real path there.
        for store in stores {
            #expect(try manifest(at: store.root + "/dst")["destination"]?.stringValue == store.root + "/dst")
        }
        try removeTree(source.root)
        #expect(verify(configuration).0 == .verified)
        // Each agent's checksum list names what it holds, and checks with xxh128sum.
        for store in stores {
            let listed = try readSmallFile(store.root + "/dst/" + ChecksumList.relativePath.string).split(separator: UInt8(ascii: "\n"))
            #expect(listed.count == (try store.files("dst")).count)
            #expect(try xxh128sumCheck(store.root + "/dst").code == 0)
        }

        // One chunk each agent holds: one flipped there, the other deleted.
        let held = try stores.map { store in (store, chunkFiles(try store.files("dst")).keys.sorted()) }
        let (first, firstKeys) = held[0], (second, secondKeys) = held[1]
        try #require(!firstKeys.isEmpty && !secondKeys.isEmpty)
        var flipped = try readSmallFile(first.root + "/dst/" + firstKeys[0])
        flipped[0] ^= 0x80
        TestDirectory.write(bytes: flipped, to: first.root + "/dst/" + firstKeys[0])
        unlink(second.root + "/dst/" + secondKeys[0])
        let (status, said) = verify(configuration)
        #expect(status == .incomplete)
        #expect(said.contains("  \(firstKeys[0]): different bytes on \(first.name)"), "\(said)")
        #expect(said.contains { $0.hasPrefix("  \(secondKeys[0]): missing: no node holds it (not on \(second.name), where the manifest puts it)") }, "\(said)")
    }

    @Test("--against-manifest checks the copy, not a source changed since; without source or manifest there is nothing to check against")
    func againstManifestAndNothing() throws {
        let dir = TestDirectory("ip-mverify-against")
        let source = SourceScript(root: dir.appending("src"), chunks: 3)
        source.writeChunks(0..<3)
        let destination = dir.appending("dst")
        var configuration = InProcessRun.configuration(source: source.root, destination: destination)
        #expect(try InProcessRun.run(configuration) == .verified)
        // The source moves on after the copy: against the source the copy is behind.
        source.writeChunks(0..<1, generation: 5)
        #expect(verify(configuration).0 == .incomplete)
        configuration.againstManifest = true
        let (status, said) = verify(configuration)
        #expect(status == .verified, "\(said)")
        #expect(said.first?.contains("against its manifest of ") == true && said.first?.contains("source is gone") == false, "\(said)")

        // A copy without a manifest (an interrupted run) and no source: a failure, not a pass.
        try removeTree(source.root)
        unlink(destination + "/" + Manifest.relativePath.string)
        configuration.againstManifest = false
        let (nothing, nothingSaid) = verify(configuration)
        #expect(nothing == .incomplete)
        #expect(nothingSaid.isEmpty)
    }
}

extension ManifestVerifyTests {
    @Test("checksums: sha256, md5: the lists check with sha256sum -c and md5sum -c, locally and on every agent, also after a resumed run")
    func extraChecksumLists() throws {
        let dir = TestDirectory("ip-checksums")
        let source = SourceScript(root: dir.appending("src"), chunks: 6)
        source.writeChunks(0..<6)
        let destination = dir.appending("dst")
        let local = InProcessRun.configuration(source: source.root, destination: destination) { settings, _ in settings.checksums = [.sha256, .md5] }
        #expect(try InProcessRun.run(local) == .verified)
        for (tool, list) in [("sha256sum", "sha256sums"), ("md5sum", "md5sums"), ("xxh128sum", "xxh128sums")] {
            #expect(try check(tool, list, at: destination).code == 0)
            #expect(try readSmallFile(destination + "/.softcopy/" + list).split(separator: UInt8(ascii: "\n")).count == (try TreeComparison.files(destination)).count)
        }
        // A resumed run read nothing: the digests come from the copy, and still check.
        #expect(try InProcessRun.run(local) == .verified)
        #expect(try check("sha256sum", "sha256sums", at: destination).code == 0)
        // One flipped byte fails the check, naming the file.
        var flipped = try readSmallFile(destination + "/" + SourceScript.chunk(2))
        flipped[7] ^= 0x10
        TestDirectory.write(bytes: flipped, to: destination + "/" + SourceScript.chunk(2))
        let failed = try check("sha256sum", "sha256sums", at: destination)
        #expect(failed.code != 0 && failed.output.contains(SourceScript.chunk(2)), "\(failed)")

        let stores = try (1...2).map { try InProcessAgent(root: dir.appending("store\($0)"), name: "store\($0)") }
        defer { stores.forEach { $0.stop() } }
        let remote = InProcessRun.configuration(source: source.root, destination: "dst", agents: stores) { settings, _ in settings.checksums = [.sha256] }
        #expect(try InProcessRun.run(remote) == .verified)
        for store in stores {
            let listed = try readSmallFile(store.root + "/dst/.softcopy/sha256sums").split(separator: UInt8(ascii: "\n")).count
            #expect(listed == (try store.files("dst")).count)
            #expect(try check("sha256sum", "sha256sums", at: store.root + "/dst").code == 0)
        }
    }
}
