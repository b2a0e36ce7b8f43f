import Testing
import SoftcopyCore
import SoftcopyTesting

extension IntegrationTests {
    /// A layout and how it is written. `lockstep` makes each time point reach the copy
    /// before the next is written, so nothing may wait for the final rescan.
    struct Layout: CustomTestStringConvertible, Sendable {
        var name: String
        var writer: [String]
        var coordinator: [String] = []
        var environment: [String: String] = [:]
        var testDescription: String { name }
    }

    static let layouts: [Layout] = [
        Layout(name: "tensorstore v3, locking os", writer: ["--locking", "os"]),
        Layout(name: "tensorstore v3, locking lockfile", writer: ["--locking", "lockfile"]),
        Layout(name: "tensorstore v3, locking none (KEY_<hex>.__lock)", writer: ["--locking", "none"]),
        Layout(name: "tensorstore v2, '.' separator", writer: ["--format", "v2", "--separator", "."]),
        Layout(name: "tensorstore v2, '/' separator", writer: ["--format", "v2", "--separator", "/"]),
        Layout(name: "tensorstore v3, v2 key encoding", writer: ["--key-encoding", "v2"]),
        Layout(name: "tensorstore v3, default encoding with '.'", writer: ["--separator", "."]),
        Layout(name: "tensorstore v3 nested, deep time axis", writer: ["--shape", "12,3,64,64", "--chunks", "1,1,16,32"]),
        Layout(name: "tensorstore v3 sharded, partial writes", writer: ["--shards", "1,2,64,64", "--chunks", "1,1,32,32"]),
        Layout(name: "tensorstore, chunks overwritten with fill (deleted)", writer: ["--fill-every", "2"]),
        Layout(name: "tensorstore, resized mid-run", writer: ["--resize-at", "2"]),
        Layout(name: "tensorstore OME-Zarr multiscale group with a 0-d array", writer: ["--ome", "--scalar"]),
        Layout(name: "tensorstore v2 OME-Zarr group", writer: ["--ome", "--format", "v2"]),
        Layout(name: "tensorstore non_atomic (in place)", writer: ["--locking", "non_atomic"], coordinator: ["--quiet-period", "0.3"]),
        Layout(name: "tensorstore non_atomic sharded", writer: ["--locking", "non_atomic", "--shards", "1,2,64,64"], coordinator: ["--quiet-period", "0.3"]),
        Layout(name: "zarr-python v3", writer: ["--writer", "zarr"]),
        Layout(name: "zarr-python v2, '/' separator", writer: ["--writer", "zarr", "--format", "v2", "--separator", "/"]),
        Layout(name: "zarr-python v3 sharded", writer: ["--writer", "zarr", "--shards", "1,2,64,64"]),
        Layout(name: "zarr-python OME-Zarr group with a 0-d array", writer: ["--writer", "zarr", "--ome", "--scalar"]),
        Layout(name: "zarr-python 3.1.2 (in place)", writer: ["--writer", "zarr"], coordinator: ["--quiet-period", "0.3"],
               environment: Tools.zarrInPlaceEnvironment),
        Layout(name: "zarr-python 3.1.2 v2, chunks rewritten with fill", writer: ["--writer", "zarr", "--format", "v2", "--fill-every", "2"],
               coordinator: ["--quiet-period", "0.3"], environment: Tools.zarrInPlaceEnvironment),
        Layout(name: "polling mode (network filesystems)", writer: [], coordinator: ["--poll", "0.2"]),
    ]

    @Test("copied while written, byte for byte, nothing left for the final rescan", arguments: layouts)
    func liveCopy(layout: Layout) throws {
        let dir = TestDirectory("live")
        let run = try Scenario.liveCopy(
            in: dir, writer: layout.writer + ["--complete"], writerEnvironment: layout.environment, coordinator: layout.coordinator)
        #expect(run.writerCode == 0, "the writer's lockstep: each time point reached the copy, which opened in zarr-python and tensorstore\n\(run.failureContext)")
        #expect(run.coordinatorCode == 0, "\(run.failureContext)")
        #expect(try run.differences() == [])
        let manifest = try run.manifest()
        #expect(manifest["status"]?.stringValue == "verified")
        #expect(manifest["found_by_final_rescan"]?.int64Value == 0, "the watcher missed nothing")
        #expect(manifest["end"]?["reason"]?.stringValue == "complete-file")
        #expect(manifest["problems"]?.arrayValue?.isEmpty == true)
        if !layout.environment.isEmpty || layout.writer.contains("non_atomic") {
            #expect(run.coordinatorLog.contains("is being written in place"), "in-place writing was detected")
        } else {
            // A newer version renamed over a chunk while it was read is no in-place write.
            #expect(!run.coordinatorLog.contains("is being written in place"), "\(run.coordinatorLog)")
        }
        // The manifest lists every file it verified, with its checksum.
        let files = try TreeComparison.files(run.source)
        #expect(manifest["entries"]?.arrayValue?.count == files.count)
    }

    @Test("the end marker arrives last: after every chunk and the metadata")
    func endMarkerLast() throws {
        let dir = TestDirectory("marker")
        let run = try Scenario.liveCopy(in: dir, writer: ["--complete", "--resize-at", "3"])
        #expect(run.coordinatorCode == 0, "\(run.failureContext)")
        let copy = try TreeComparison.files(run.destination)
        #expect(copy["complete"] != nil)
        // Destination mtimes are the source's, but a rename sets the ctime: the marker's
        // must be the latest.
        let marker = try #require(try statusOf(run.destination + "/complete"))
        for (path, _) in copy where path != "complete" {
            let status = try #require(try statusOf(run.destination + "/" + path))
            #expect(status.ctimeNanoseconds <= marker.ctimeNanoseconds, "\(path) landed after the end marker")
        }
    }
}
