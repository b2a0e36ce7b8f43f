import Glibc
import Testing
import SoftcopyCore
import SoftcopyIO
import SoftcopyTesting

extension IntegrationTests {
    @Test("Chunks of 256 KiB and more bypass the page cache (O_DIRECT) locally and at an agent, and land byte for byte; --no-direct-io writes them through it",
          arguments: ["local", "agent"], [true, false])
    func directWrites(where place: String, direct: Bool) throws {
        let dir = TestDirectory("direct-\(place)-\(direct)")
        let source = dir.appending("src.zarr")
        // 400 x 333 uint16: 266,400 bytes a chunk, not a whole number of 4096-byte blocks.
        try Scenario.writeArchive(source, ["--shape", "4,800,666", "--chunks", "1,400,333", "--complete"])
        let option = direct ? [] : ["--no-direct-io"]
        let destination: String
        var agent: AgentProcess?
        if place == "local" {
            destination = dir.appending("dst.zarr")
            let (code, log) = try Scenario.coordinator(["--once"] + option + [source, destination], in: dir)
            #expect(code == 0, "\(log)")
        } else {
            let a = try AgentProcess(in: dir, name: "a", extra: option)
            agent = a
            destination = a.root + "/acq.zarr"
            let (code, log) = try Scenario.coordinator(["--once", "--listen", "127.0.0.1:0", "--agent", a.url, source, "acq.zarr"], in: dir)
            #expect(code == 0, "\(log)")
        }
        // Before anything here reads the copies: direct chunks were written and checked around the cache.
        var chunks = 0, cached = 0
        for (path, bytes) in try TreeComparison.files(source) where bytes.count >= 256 << 10 {
            chunks += 1
            cached += try PageCache.residentPages(of: destination + "/" + path).resident
        }
        #expect(chunks == 16)
        if direct {
            #expect(cached == 0, "\(cached) pages of direct-written chunks are in the page cache")
        } else {
            #expect(cached > 0, "chunks written through the cache are not in it: the check above would prove nothing")
        }
        #expect(try TreeComparison.differences(source: source, destination: destination) == [])
        let manifest = try JSONParser.parse(bytes: readSmallFile(destination + "/" + Manifest.relativePath.string))
        #expect(manifest["status"] == .string("verified"), "\(manifest.serialized())")
        _ = agent
    }
}
