import Glibc
import Testing
import SoftcopyCore
import SoftcopyIO
import SoftcopyTesting

extension IntegrationTests {
    /// Chunks written the way tensorstore does (a temp file renamed into place), so the
    /// test decides exactly when each fault happens.
    private static func putChunk(_ text: String, at file: String, mode: UInt32 = 0o644) {
        let temp = file + ".__lock"
        TestDirectory.write(text, to: temp, mode: mode)
        rename(temp, file)
    }

    @Test("a source file truncated, made unreadable or deleted mid-run: the copy follows the source, the unreadable file is named, the rest is copied")
    func sourceChangedMidRun() throws {
        try Tools.requireRealParts()
        let dir = TestDirectory("midrun")
        let source = dir.appending("src.zarr"), destination = dir.appending("dst.zarr")
        _ = mkdir(source, 0o755)
        _ = mkdir(source + "/c", 0o755)
        TestDirectory.write(#"{"zarr_format": 3, "node_type": "array", "shape": [8], "data_type": "uint8", "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [1]}}, "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}}, "codecs": [{"name": "bytes"}], "fill_value": 0}"#, to: source + "/zarr.json")
        let original = (0..<4).map { String(repeating: "chunk \($0) ", count: 500) }
        for (n, text) in original.enumerated() { Self.putChunk(text, at: "\(source)/c/\(n)") }
        // Root reads anything: the coordinator runs as nobody, so permissions are real.
        try ChildProcess.run(["/bin/sh", "-c", "chmod 755 \(dir.path) && mkdir \(destination) && chown 65534:65534 \(destination)"], timeout: .seconds(10))
        let copier = try ChildProcess(
            ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", Tools.coordinator, "--no-discovery", "--progress", "never",
             "--verbose", source, destination],
            logPrefix: dir.appending("coordinator"))
        defer { copier.signal(SIGKILL) }
        func copied(_ n: Int, _ text: String) -> Bool {
            (try? readSmallFile("\(destination)/c/\(n)")).map { String(decoding: $0, as: UTF8.self) == text } ?? false
        }
        try ChildProcess.waitUntil(timeout: .seconds(60), "the first four chunks at the destination") {
            (0..<4).allSatisfy { copied($0, original[$0]) }
        }

        // c/0 truncated in place; c/1 made unreadable after it was copied; c/2 deleted;
        // c/4 arrives unreadable; c/5 arrives normally.
        let truncated = "short"
        TestDirectory.write(truncated, to: source + "/c/0")
        chmod(source + "/c/1", 0)
        unlink(source + "/c/2")
        Self.putChunk("chunk 4", at: source + "/c/4", mode: 0)
        Self.putChunk("chunk 5", at: source + "/c/5")
        Self.putChunk("", at: source + "/complete")

        let code = try copier.wait(timeout: .seconds(120))
        #expect(code == ExitStatus.incomplete.rawValue, "\(copier.stderr)")
        #expect(copier.stderr.contains("PROBLEMS (2)"), "\(copier.stderr)")
        #expect(copier.stderr.contains("c/4: open \(source)/c/4: Permission denied"), "\(copier.stderr)")
        // chmod changes the ctime, so c/1 is a new version that cannot be read: reported,
        // while the copy made before stays as it was.
        #expect(copier.stderr.contains("c/1: open \(source)/c/1: Permission denied"), "\(copier.stderr)")
        #expect(copied(1, original[1]), "nothing already copied is lost")
        #expect(copied(0, truncated), "the truncated version replaced the longer one")
        #expect(try statusOf(destination + "/c/2") == nil, "a deletion reaches the copy at the end")
        #expect(copied(3, original[3]))
        #expect(copied(5, "chunk 5"))
        let differences = try TreeComparison.differences(source: source, destination: destination)
        #expect(differences == ["missing at the destination: c/4"], "\(copier.stderr)")
        #expect(try FileStatus.of(destination + "/c/4") == nil)
    }
}
