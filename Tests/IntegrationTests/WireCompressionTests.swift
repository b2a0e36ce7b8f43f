import Testing
import SoftcopyCore
import SoftcopyTesting

extension IntegrationTests {
    /// Every layout of the live matrix, written as a camera sees (`--image microscopy`,
    /// raw uint16 chunks that compress), copied through a real agent with every chunk
    /// compressed on the wire: the agent holds exactly the source's bytes.
    /// Chunks above the bundle limit go one per GET and are decoded as they stream in;
    /// those above 1 MiB span several shuffle blocks.
    static let wideLayouts: [Layout] = [
        Layout(name: "2 MiB chunks, one GET each", writer: ["--shape", "3,1,1024,1024", "--chunks", "1,1,1024,1024"]),
        Layout(name: "4 MiB shards in partial writes", writer: ["--shape", "2,2,1024,1024", "--shards", "1,2,1024,1024", "--chunks", "1,1,512,512"]),
        Layout(name: "float32, 1 MiB + 4 KiB chunks", writer: ["--dtype", "float32", "--shape", "3,1,257,1024", "--chunks", "1,1,257,1024"]),
    ]

    @Test("compressed on the wire (wire_compression: always), byte for byte, for every layout of the live matrix",
          arguments: layouts + wideLayouts)
    func wireCompressedLiveCopy(layout: Layout) throws {
        let dir = TestDirectory("wire")
        let agent = try AgentProcess(in: dir, name: "agent", root: dir.path)
        let run = try Scenario.liveCopy(
            in: dir, writer: layout.writer + ["--complete", "--image", "microscopy"], writerEnvironment: layout.environment,
            coordinator: layout.coordinator + ["--listen", "127.0.0.1:0", "--agent", agent.url, "--wire-compression", "always"],
            destinationArgument: "dst.zarr")
        #expect(run.writerCode == 0, "\(run.failureContext)")
        #expect(run.coordinatorCode == 0, "\(run.failureContext)")
        #expect(try run.differences() == [])
        #expect(try run.manifest()["status"]?.stringValue == "verified")
        #expect(run.coordinatorLog.contains("compressed on the wire: "), "chunks went compressed\n\(run.coordinatorLog)")
    }
}
