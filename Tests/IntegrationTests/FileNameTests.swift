import Glibc
import Testing
import SoftcopyCore
import SoftcopyIO
import SoftcopyTesting

extension IntegrationTests {
    /// Names that are not what a String makes of them: Latin-1 (not UTF-8), the same word
    /// precomposed and decomposed (equal as Strings, two files on disk), and a name that
    /// holds the code point softcopy's own escapes use.
    static let oddNames: [[UInt8]] = [
        Array("caf".utf8) + [0xE9],
        Array("caf\u{e9}".utf8),
        Array("cafe\u{301}".utf8),
        Array("esc\u{10FFE9}".utf8),
        [0xFF, 0xFE, 0x20, 0x25],
    ]

    /// Writes a file whose name is raw bytes, by renaming a temp file into place as
    /// tensorstore does.
    static func writeRawName(_ folder: String, _ name: [UInt8], contents: String) {
        let temp = folder + "/.__lock-\(name.count)-\(contents.utf8.count).__lock"
        TestDirectory.write(contents, to: temp)
        let target = Array(folder.utf8) + [UInt8(ascii: "/")] + name + [0]
        let renamed = target.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { rename(temp, $0.baseAddress!) }
        }
        precondition(renamed == 0, "rename failed: \(errno)")
    }

    static func writeOddNames(into source: String) {
        _ = mkdir(source + "/c", 0o755)
        for (n, name) in oddNames.enumerated() {
            writeRawName(source + "/c", name, contents: "file \(n) " + String(repeating: "x", count: 100 * n))
        }
    }

    @Test("Names are bytes: Latin-1, NFC and NFD twins and an escape look-alike are copied byte for byte, locally, live and through an agent")
    func namesAreBytes() throws {
        try Tools.requireRealParts()
        let dir = TestDirectory("names")
        let source = dir.appending("src.zarr")
        try Scenario.writeArchive(source, ["--shape", "2,1,16,16", "--chunks", "1,1,16,16"])
        Self.writeOddNames(into: source)
        #expect(try TreeComparison.files(source).count == 3 + Self.oddNames.count, "five distinct names at the source")

        // --once, locally: every name arrives, the manifest carries each one's bytes.
        let local = dir.appending("local.zarr")
        let (code, log) = try Scenario.coordinator(["--once", source, local], in: dir, name: "once")
        #expect(code == 0, "\(log)")
        #expect(try TreeComparison.differences(source: source, destination: local) == [])
        let manifest = try JSONParser.parse(bytes: readSmallFile(local + "/" + Manifest.relativePath.string))
        let hexes = manifest["entries"]?.arrayValue?.compactMap { $0["path_hex"]?.stringValue } ?? []
        #expect(hexes.contains("632f636166e9"), "the Latin-1 name's bytes (c/caf\\xE9): \(hexes)")
        #expect(manifest["files"]?.int64Value == Int64(3 + Self.oddNames.count))

        // Live: the names arrive through inotify while the coordinator watches.
        let liveSource = dir.appending("live-src.zarr"), liveCopy = dir.appending("live.zarr")
        let copier = try ChildProcess(
            [Tools.coordinator, "--no-discovery", "--wait-for-source", "--progress", "never", liveSource, liveCopy],
            logPrefix: dir.appending("live"))
        defer { copier.signal(SIGKILL) }
        try ChildProcess.waitUntil(timeout: .seconds(30), "the coordinator to wait for the source") {
            copier.stderr.contains("waiting for the source")
        }
        _ = mkdir(liveSource, 0o755)
        try ChildProcess.waitUntil(timeout: .seconds(30), "the coordinator to watch the source") { copier.stderr.contains("watching") }
        Self.writeOddNames(into: liveSource)
        try ChildProcess.waitUntil(timeout: .seconds(60), "the odd names at the copy") {
            ((try? TreeComparison.files(liveCopy).count) ?? 0) == Self.oddNames.count
        }
        TestDirectory.write("", to: liveSource + "/complete")
        #expect(try copier.wait(timeout: .seconds(60)) == 0, "\(copier.stderr)")
        #expect(copier.stderr.contains("found only by the final rescan: 0"), "inotify saw every name: \(copier.stderr)")
        #expect(try TreeComparison.differences(source: liveSource, destination: liveCopy) == [])

        // Through an agent: names in lease grants, URLs, acks and listings.
        let agent = try AgentProcess(in: dir, name: "a")
        let (agentCode, agentLog) = try Scenario.coordinator(
            ["--once", "--listen", "127.0.0.1:0", "--agent", agent.url, source, "acq.zarr"], in: dir, name: "agent")
        #expect(agentCode == 0, "\(agentLog)")
        #expect(try TreeComparison.differences(source: source, destination: agent.root + "/acq.zarr") == [])
        // A rerun finds every name already there through the agent's listing.
        let (again, againLog) = try Scenario.coordinator(
            ["--once", "--listen", "127.0.0.1:0", "--agent", agent.url, source, "acq.zarr"], in: dir, name: "agent-again")
        #expect(again == 0 && againLog.contains("copied 0 files"), "\(againLog)")
        // And verify, which hashes both sides, agrees.
        let verify = try ChildProcess.run(
            [Tools.coordinator, "verify", "--no-discovery", "--agent", agent.url, source, "acq.zarr"], timeout: .seconds(60))
        #expect(verify.code == 0, "\(verify.stdout)\(verify.stderr)")
    }
}
