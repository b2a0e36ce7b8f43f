import Glibc
import Testing
import SoftcopyCore
import SoftcopyCoordinator
import SoftcopyIO
import SoftcopyTesting

/// `remove_source`: the source goes only once its copy is verified, and a run that stops
/// in the middle of removing it loses nothing.
@Suite("In process: removing the source")
struct SourceRemovalTests {
    private func removal(_ manifest: JSONValue) -> JSONValue? {
        manifest["source_removal"]
    }

    private func integer(_ value: JSONValue?, _ key: String) -> Int? {
        value?[key]?.int64Value.map { Int($0) }
    }

    @Test("after-verify: the source folder is gone, the copy equals what the source was, and the manifest says when each file went")
    func afterVerifyLocal() throws {
        let dir = TestDirectory("ip-remove-local")
        let source = SourceScript(root: dir.appending("src"), chunks: 6)
        source.writeChunks(0..<6)
        source.complete()
        let before = try TreeComparison.files(source.root)
        let destination = dir.appending("dst")
        let configuration = InProcessRun.configuration(source: source.root, destination: destination) { _, spec in spec.removeSource = .afterVerify }
        #expect(try InProcessRun.run(configuration) == .verified)

        #expect(!exists(source.root))
        #expect(!exists(RemovalJournal.location(ofSource: source.root)))
        #expect(try TreeComparison.files(destination) == before)
        let written = try manifest(at: destination)
        #expect(integer(removal(written), "removed_files") == before.count)
        #expect(removal(written)?["source_root_removed"] == .bool(true))
        let entries = written["entries"]?.arrayValue ?? []
        #expect(entries.count == before.count && entries.allSatisfy { $0["removed_from_source_ns"]?.int64Value != nil })
        // The copy checks against its manifest now that the source is gone.
        let status = CopyVerifier(configuration: configuration) { _ in }.run()
        #expect(status == .verified)
    }

    @Test("A symbolic link in the archive is copied as its file and stays at the source; two hard links of one file both go; the run is OK, and the folder holding the link stays")
    func linkStays() throws {
        let dir = TestDirectory("ip-remove-link")
        let source = SourceScript(root: dir.appending("src"), chunks: 3)
        source.writeChunks(0..<3)
        #expect(symlink("0", source.root + "/a/c/link") == 0)
        // Removing one name changes the inode's ctime: the other name must still go.
        #expect(link(source.root + "/a/c/1", source.root + "/a/c/hard") == 0)
        let configuration = InProcessRun.configuration(source: source.root, destination: dir.appending("dst")) { _, spec in spec.removeSource = .afterVerify }
        #expect(try InProcessRun.run(configuration) == .verified)
        #expect(try TreeComparison.files(dir.appending("dst"))["a/c/link"] == SourceScript.bytes(chunk: 0))
        #expect(try TreeComparison.files(dir.appending("dst"))["a/c/hard"] == SourceScript.bytes(chunk: 1))
        #expect(try TreeComparison.files(source.root).isEmpty, "every regular file went")
        #expect(try FileStatus.of(source.root + "/a/c/link")?.kind == .symlink)
        let kept = try manifest(at: dir.appending("dst"))["source_removal"]?["kept"]?.arrayValue ?? []
        #expect(kept.map { $0["path"]?.stringValue } == ["a/c/link"])
        #expect(exists(RemovalJournal.location(ofSource: source.root)), "kept while the folder stays")
    }

    @Test("--dry-run removes nothing and says what it would remove")
    func dryRun() throws {
        let dir = TestDirectory("ip-remove-dry")
        let source = SourceScript(root: dir.appending("src"), chunks: 4)
        source.writeChunks(0..<4)
        let before = try TreeComparison.files(source.root)
        var configuration = InProcessRun.configuration(source: source.root, destination: dir.appending("dst")) { settings, _ in settings.removeSource = .afterVerify }
        configuration.dryRun = true
        #expect(try InProcessRun.run(configuration) == .verified)
        #expect(try TreeComparison.files(source.root) == before)
        #expect(!exists(RemovalJournal.location(ofSource: source.root)))
        // The manifest records the dry run, and what it would have removed.
        let written = try manifest(at: dir.appending("dst"))
        #expect(written["source_removal"]?["dry_run"] == .bool(true))
        #expect(integer(removal(written), "removed_files") == before.count)
    }

    @Test("A copy that is not complete removes nothing: a special file at the source stays and so does everything else")
    func incompleteRemovesNothing() throws {
        let dir = TestDirectory("ip-remove-incomplete")
        let source = SourceScript(root: dir.appending("src"), chunks: 4)
        source.writeChunks(0..<4)
        #expect(mkfifo(source.root + "/a/c/pipe", 0o644) == 0)
        let before = try TreeComparison.files(source.root)
        let configuration = InProcessRun.configuration(source: source.root, destination: dir.appending("dst")) { _, spec in spec.removeSource = .afterVerify }
        #expect(try InProcessRun.run(configuration) == .incomplete)
        #expect(try TreeComparison.files(source.root) == before)
        #expect(exists(source.root + "/a/c/pipe"))
        #expect(!exists(RemovalJournal.location(ofSource: source.root)))
    }

    @Test("replicas: 2 with one agent: a replica short, nothing is removed; with two agents every file is on both before the source goes")
    func replicas() throws {
        let dir = TestDirectory("ip-remove-replicas")
        let source = SourceScript(root: dir.appending("src"), chunks: 6)
        source.writeChunks(0..<6)
        let before = try TreeComparison.files(source.root)
        let stores = try (1...2).map { try InProcessAgent(root: dir.appending("store\($0)"), name: "store\($0)") }
        defer { stores.forEach { $0.stop() } }
        let short = InProcessRun.configuration(source: source.root, destination: "dst", agents: [stores[0]]) { settings, spec in
            spec.removeSource = .afterVerify
            spec.replicas = 2
            settings.whenUnsatisfiable = .stop
        }
        #expect(try InProcessRun.run(short) != .verified)
        #expect(try TreeComparison.files(source.root) == before)

        let both = InProcessRun.configuration(source: source.root, destination: "dst", agents: stores) { _, spec in
            spec.removeSource = .afterVerify
            spec.replicas = 2
        }
        #expect(try InProcessRun.run(both) == .verified)
        #expect(!exists(source.root))
        for store in stores { #expect(try store.files("dst") == before) }
    }

    @Test("replicas: 2 and one of the two agents gone at the end: the run stops as incomplete and nothing is removed")
    func agentDownAtTheEnd() throws {
        let dir = TestDirectory("ip-remove-agent-down")
        let source = SourceScript(root: dir.appending("src"), chunks: 8)
        let stores = try (1...2).map { try InProcessAgent(root: dir.appending("store\($0)"), name: "store\($0)") }
        defer { stores.forEach { $0.stop() } }
        let configuration = InProcessRun.configuration(source: source.root, destination: "dst", agents: stores, once: false) { settings, spec in
            spec.removeSource = .afterVerify
            spec.replicas = 2
            settings.whenUnsatisfiable = .stop
        }
        let run = try InProcessRun(configuration)
        source.writeChunks(0..<8)
        #expect(eventually { stores.allSatisfy { (try? chunkFiles($0.files("dst")).count) == 8 } })
        stores[1].stop()
        source.complete()
        let before = try TreeComparison.files(source.root)
        #expect(try run.wait(timeout: .seconds(60)) == .incomplete)
        #expect(try TreeComparison.files(source.root) == before)
        #expect(!exists(RemovalJournal.location(ofSource: source.root)))
    }

    @Test("A run stopped halfway through removing: the next run counts the removed files as copied (none is deleted at the destination) and finishes the removal")
    func resumesAfterACrash() throws {
        let dir = TestDirectory("ip-remove-resume")
        let source = SourceScript(root: dir.appending("src"), chunks: 8)
        source.writeChunks(0..<8)
        let before = try TreeComparison.files(source.root)
        let destination = dir.appending("dst")
        #expect(try InProcessRun.run(InProcessRun.configuration(source: source.root, destination: destination)) == .verified)

        // What a coordinator killed mid-removal leaves: its plan, durable, and half the files gone.
        var state = RemovalRecord.State(destination: destination)
        for key in before.keys.sorted() {
            let status = try #require(try FileStatus.of(source.root + "/" + key))
            state.planned[try RelativePath(validating: key)] = .init(version: status.version, checksum: Checksum(high: 0, low: 0))
        }
        _ = try RemovalJournal(source: source.root, state: state)
        let removed = before.keys.sorted().filter { $0.hasPrefix("a/c/") }.prefix(4)
        for key in removed { source.remove(key) }

        // Copied elsewhere meanwhile: that copy is of what is left, and nothing more goes.
        let elsewhere = InProcessRun.configuration(source: source.root, destination: dir.appending("other")) { _, spec in spec.removeSource = .afterVerify }
        #expect(try InProcessRun.run(elsewhere) == .incomplete)
        #expect(try TreeComparison.files(source.root).count == before.count - removed.count)
        #expect(try manifest(at: dir.appending("other"))["source_removal"]?["refused"]?.stringValue?.contains("split the acquisition") == true)

        // Restarted without remove_source (deletions at the end allowed): nothing goes from the copy.
        let keep = InProcessRun.configuration(source: source.root, destination: destination)
        #expect(try InProcessRun.run(keep) == .verified)
        #expect(try TreeComparison.files(destination) == before)
        #expect(exists(RemovalJournal.location(ofSource: source.root)))

        // Restarted with it: the rest goes, and the copy is whole.
        let finish = InProcessRun.configuration(source: source.root, destination: destination) { _, spec in spec.removeSource = .afterVerify }
        #expect(try InProcessRun.run(finish) == .verified)
        #expect(!exists(source.root))
        #expect(!exists(RemovalJournal.location(ofSource: source.root)))
        #expect(try TreeComparison.files(destination) == before)
        let written = try manifest(at: destination)
        #expect(integer(removal(written), "removed_by_earlier_runs") == removed.count)
        #expect(integer(removal(written), "removed_files") == before.count - removed.count)
    }
}
