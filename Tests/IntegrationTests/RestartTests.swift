import Glibc
import Testing
import SoftcopyCore
import SoftcopyIO
import SoftcopyTesting

extension IntegrationTests {
    @Test("SIGKILL mid-run: no partial file under a real name, and a restart sends nothing verified again")
    func killAndRestart() throws {
        try Tools.requireRealParts()
        let dir = TestDirectory("kill")
        let source = dir.appending("src.zarr"), destination = dir.appending("dst.zarr")
        let writer = try ChildProcess(
            [Tools.python, Tools.acquire, source, "--lockstep", destination, "--lockstep-timeout", "120",
             "--shape", "16,2,128,128", "--chunks", "1,1,64,64", "--complete"],
            logPrefix: dir.appending("writer"))
        let first = try ChildProcess([Tools.coordinator, "--no-discovery", "--wait-for-source", "--progress", "never", source, destination], logPrefix: dir.appending("first"))
        // Kill it once a few time points are journaled (lockstep holds the writer meanwhile).
        try ChildProcess.waitUntil(timeout: .seconds(120), "some chunks journaled at the destination") {
            ((try? JournalFile.load(destinationRoot: destination).records.count) ?? 0) >= 30
        }
        first.signal(SIGKILL)
        _ = try first.wait(timeout: .seconds(30))

        // Whatever is under a real name is complete and correct.
        let landed = try TreeComparison.files(destination)
        let sourceNow = try TreeComparison.files(source)
        for (path, bytes) in landed {
            #expect(sourceNow[path] == bytes, "\(path) at the destination is not the source's bytes")
        }
        let journal = try JournalFile.load(destinationRoot: destination).records
        #expect(journal.count >= 30)

        let (code, log) = try Scenario.coordinator([source, destination], in: dir, name: "second")
        #expect(try writer.wait(timeout: .seconds(120)) == 0, "\(writer.stderr)")
        #expect(code == 0, "\(log)")
        #expect(try TreeComparison.differences(source: source, destination: destination) == [])
        let manifest = try JSONParser.parse(bytes: readSmallFile(destination + "/" + Manifest.relativePath.string))
        let total = try TreeComparison.files(source).count
        // Every file the journal had (none was rewritten by this writer) was not sent again.
        // A kill between a batch's renames and its journal lines leaves files in place but
        // unjournaled: those are adopted by checksum, not written again.
        #expect(manifest["statistics"]?["copied_files"]?.int64Value == Int64(total - landed.count))
        #expect(manifest["statistics"]?["unchanged"]?.int64Value == Int64(landed.count - journal.count))
        #expect(log.contains("\(journal.count) files already verified by an earlier run"))
    }
}
