import Glibc
import Testing
import SoftcopyCore
import SoftcopyCoordinator
import SoftcopyIO
import SoftcopyTesting

/// The coordinator copying locally (no agent), run inside the test process.
@Suite("In process: a local copy")
struct LocalRunTests {
    @Test("--once copies a finished archive byte for byte, verifies it and writes the manifest")
    func onceCopies() throws {
        let dir = TestDirectory("ip-once")
        let source = SourceScript(root: dir.appending("src"), chunks: 6)
        source.writeChunks(0..<6)
        let destination = dir.appending("dst")
        #expect(try InProcessRun.run(InProcessRun.configuration(source: source.root, destination: destination)) == .verified)
        #expect(try TreeComparison.differences(source: source.root, destination: destination) == [])
        let m = try manifest(at: destination)
        #expect(m["status"]?.stringValue == "verified")
        #expect(m["files"]?.int64Value == 8)  // two metadata files and six chunks
        #expect(statistic(m, "copied_files") == 8)
    }

    @Test("A second run over a finished copy copies nothing again (resume from the journal)")
    func rerunCopiesNothing() throws {
        let dir = TestDirectory("ip-rerun")
        let source = SourceScript(root: dir.appending("src"), chunks: 5)
        source.writeChunks(0..<5)
        let destination = dir.appending("dst")
        let configuration = InProcessRun.configuration(source: source.root, destination: destination)
        #expect(try InProcessRun.run(configuration) == .verified)
        #expect(try InProcessRun.run(configuration) == .verified)
        #expect(statistic(try manifest(at: destination), "copied_files") == 0)
        #expect(try TreeComparison.differences(source: source.root, destination: destination) == [])
    }

    @Test("A file changed at the source between runs is copied again; the others are not")
    func changedBetweenRuns() throws {
        let dir = TestDirectory("ip-changed")
        let source = SourceScript(root: dir.appending("src"), chunks: 4)
        source.writeChunks(0..<4)
        let destination = dir.appending("dst")
        let configuration = InProcessRun.configuration(source: source.root, destination: destination)
        #expect(try InProcessRun.run(configuration) == .verified)
        source.writeChunks(2..<3, generation: 1)
        #expect(try InProcessRun.run(configuration) == .verified)
        #expect(statistic(try manifest(at: destination), "copied_files") == 1)
        #expect(try TreeComparison.differences(source: source.root, destination: destination) == [])
    }

    @Test("A live run copies chunks as they appear and ends at the end marker, with that reason in the manifest")
    func liveEndsAtMarker() throws {
        let dir = TestDirectory("ip-live")
        let source = SourceScript(root: dir.appending("src"), chunks: 6)
        let destination = dir.appending("dst")
        let run = try InProcessRun(InProcessRun.configuration(source: source.root, destination: destination, once: false))
        source.writeChunks(0..<3)
        #expect(eventually { exists(destination + "/" + SourceScript.chunk(2)) })
        source.writeChunks(3..<6)
        source.complete()
        #expect(try run.wait() == .verified)
        #expect(try TreeComparison.differences(source: source.root, destination: destination) == [])
        #expect(try manifest(at: destination)["end"]?["reason"]?.stringValue == EndReason.completeFile.code)
    }

    @Test("The operator's end (SIGUSR1's path) finishes a live run with a final rescan")
    func operatorEnds() throws {
        let dir = TestDirectory("ip-operator")
        let source = SourceScript(root: dir.appending("src"), chunks: 3)
        let destination = dir.appending("dst")
        source.writeChunks(0..<3)
        let run = try InProcessRun(InProcessRun.configuration(source: source.root, destination: destination, once: false))
        #expect(eventually { exists(destination + "/" + SourceScript.chunk(2)) })
        run.job.endAcquisition()
        #expect(try run.wait() == .verified)
        #expect(try manifest(at: destination)["end"]?["reason"]?.stringValue == EndReason.operatorSignal.code)
    }

    @Test("An idle timeout, confirmed by a rescan, ends a live run")
    func idleTimeoutEnds() throws {
        let dir = TestDirectory("ip-idle")
        let source = SourceScript(root: dir.appending("src"), chunks: 2)
        source.writeChunks(0..<2)
        let destination = dir.appending("dst")
        let configuration = InProcessRun.configuration(source: source.root, destination: destination, once: false) { settings, _ in
            settings.idleTimeout = .milliseconds(600)
        }
        #expect(try InProcessRun.run(configuration) == .verified)
        #expect(try manifest(at: destination)["end"]?["reason"]?.stringValue == EndReason.idleTimeout(.milliseconds(600)).code)
        #expect(try TreeComparison.differences(source: source.root, destination: destination) == [])
    }

    @Test("A crashed writer's temp file at the end: everything else is verified, and the exit says so (4)")
    func crashedWriterLeftovers() throws {
        let dir = TestDirectory("ip-leftover")
        let source = SourceScript(root: dir.appending("src"), chunks: 2)
        source.writeChunks(0..<2)
        source.leaveTemporary(SourceScript.chunk(1))
        let destination = dir.appending("dst")
        #expect(try InProcessRun.run(InProcessRun.configuration(source: source.root, destination: destination)) == .verifiedWithLeftovers)
        #expect(try manifest(at: destination)["leftovers"]?.arrayValue?.count == 1)
    }

    @Test("A deletion at the source reaches the copy at the end (deletions: at-end)")
    func deletionAtEnd() throws {
        let dir = TestDirectory("ip-delete")
        let source = SourceScript(root: dir.appending("src"), chunks: 3)
        source.writeChunks(0..<3)
        let destination = dir.appending("dst")
        let configuration = InProcessRun.configuration(source: source.root, destination: destination)
        #expect(try InProcessRun.run(configuration) == .verified)
        source.remove(SourceScript.chunk(1))
        #expect(try InProcessRun.run(configuration) == .verified)
        #expect(!exists(destination + "/" + SourceScript.chunk(1)))
        #expect(try TreeComparison.differences(source: source.root, destination: destination) == [])
    }

    @Test("One destination, one writer: a second run into a destination in use is refused, naming the holder")
    func destinationInUse() throws {
        let dir = TestDirectory("ip-lock")
        let source = SourceScript(root: dir.appending("src"), chunks: 2)
        source.writeChunks(0..<2)
        let destination = dir.appending("dst")
        let first = try InProcessRun(InProcessRun.configuration(source: source.root, destination: destination, once: false))
        #expect(eventually { exists(destination + "/" + SourceScript.chunk(1)) })
        #expect(try InProcessRun.run(InProcessRun.configuration(source: source.root, destination: destination)) == .usage)
        first.job.endAcquisition()
        #expect(try first.wait() == .verified)
    }

    @Test("A destination holding another source's copy is refused; with replace it is taken")
    func anotherSourcesCopy() throws {
        let dir = TestDirectory("ip-origin")
        let a = SourceScript(root: dir.appending("a"), chunks: 2)
        a.writeChunks(0..<2)
        let b = SourceScript(root: dir.appending("b"), chunks: 2)
        b.writeChunks(0..<2, generation: 1)
        let destination = dir.appending("dst")
        #expect(try InProcessRun.run(InProcessRun.configuration(source: a.root, destination: destination)) == .verified)
        #expect(try InProcessRun.run(InProcessRun.configuration(source: b.root, destination: destination)) == .usage)
        #expect(try TreeComparison.differences(source: a.root, destination: destination) == [])
        let replacing = InProcessRun.configuration(source: b.root, destination: destination) { _, spec in spec.replace = true }
        #expect(try InProcessRun.run(replacing) == .verified)
        #expect(try TreeComparison.differences(source: b.root, destination: destination) == [])
    }

    @Test("A missing source is a usage error naming it, and nothing is made at the destination")
    func missingSource() throws {
        let dir = TestDirectory("ip-missing")
        let destination = dir.appending("dst")
        #expect(try InProcessRun.run(InProcessRun.configuration(source: dir.appending("nowhere"), destination: destination)) == .usage)
        #expect(!exists(destination))
    }
}
