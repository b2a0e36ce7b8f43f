import Testing
import SoftcopyCore

@Suite("Ordering: metadata first while live, last at the end")
struct ArchiveTrackerOrderingTests {
    @Test("while live, metadata is leased before data that was ready earlier")
    func metadataFirstWhileLive() {
        var t = ArchiveTracker()
        t.observe(path("c/0/0"), .file(version(1)), cause: .renamedInto, at: ms(0))
        t.observe(path("zarr.json"), .file(version(2)), cause: .renamedInto, at: ms(1))
        #expect(t.leasePaths(at: ms(2)) == ["zarr.json", "c/0/0"])
    }

    @Test("the end marker is never copied while live")
    func markerWaitsForEnd() {
        var t = ArchiveTracker()
        t.observe(path("complete"), .file(version(1, size: 0)), cause: .createdInPlace, at: ms(0))
        #expect(!t.inPlaceActive, "creating the end marker is not in-place writing")
        #expect(t.leasePaths(at: ms(10)).isEmpty)
    }

    @Test("after the end: data, then metadata, then the end marker")
    func finalOrder() {
        var t = ArchiveTracker()
        let versions = ["zarr.json": version(1), "c/0": version(2), "c/1": version(3), "complete": version(4, size: 0)]
        t.observe(path("zarr.json"), .file(versions["zarr.json"]!), cause: .scan(.initial), at: ms(0))
        t.copyAllReady(at: ms(0), versions: versions)
        // The writer resizes: new metadata and new chunks, then the end marker.
        let newMetadata = version(5)
        t.observe(path("zarr.json"), .file(newMetadata), cause: .renamedInto, at: ms(1))
        t.observe(path("c/0"), .file(versions["c/0"]!), cause: .renamedInto, at: ms(1))
        t.observe(path("c/1"), .file(versions["c/1"]!), cause: .renamedInto, at: ms(1))
        t.observe(path("complete"), .file(versions["complete"]!), cause: .createdInPlace, at: ms(1))
        t.beginFinalPhase(at: ms(2))

        let data = t.lease(maxItems: 10, now: ms(2))
        #expect(data.map(\.path.string).sorted() == ["c/0", "c/1"], "metadata waits while data is outstanding")
        t.finishCopy(data[0], versions[data[0].path.string]!, at: ms(3))
        #expect(t.leasePaths(at: ms(3)).isEmpty, "one data file is still in flight")
        t.finishCopy(data[1], versions[data[1].path.string]!, at: ms(4))
        let meta = t.lease(maxItems: 10, now: ms(4))
        #expect(meta.map(\.path.string) == ["zarr.json"])
        t.finishCopy(meta[0], newMetadata, at: ms(5))
        let marker = t.lease(maxItems: 10, now: ms(5))
        #expect(marker.map(\.path.string) == ["complete"])
        t.finishCopy(marker[0], versions["complete"]!, at: ms(6))
        #expect(t.isDrained)
    }

    @Test("batches respect the byte budget")
    func byteBudget() {
        var t = ArchiveTracker()
        for i in 0..<10 {
            t.observe(path("c/\(i)"), .file(version(UInt64(i + 1), size: 1_000)), cause: .renamedInto, at: ms(0))
        }
        #expect(t.lease(maxItems: 100, maxBytes: 2_500, now: ms(0)).count == 3)
    }
}
