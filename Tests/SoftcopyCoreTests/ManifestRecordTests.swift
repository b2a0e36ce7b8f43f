import Testing
@testable import SoftcopyCore

/// The records stored with a copy: the manifest read back, and the checksum list.
@Suite("Manifest record and checksum list")
struct ManifestRecordTests {
    private func file(_ name: String, _ holders: [NodeID], size: UInt64 = 10) -> ArchiveVerdict.VerifiedFile {
        var f = ArchiveVerdict.VerifiedFile(path: path(name), role: .data, size: size, checksum: Checksum(high: 0xab, low: size), mtimeNanoseconds: 5)
        f.holders = holders
        return f
    }

    private func manifest(_ files: [ArchiveVerdict.VerifiedFile], status problems: Bool = false) -> Manifest {
        var verdict = ArchiveVerdict()
        verdict.verified = files
        if problems { verdict.problems = [.init(path: path("a/c/9"), kind: .missing)] }
        var m = Manifest(softcopyVersion: "t", source: "/src", destination: "/dst", host: "pc", started: "2026-12-06T10:00:00Z",
                         finished: "2026-12-06T11:00:00Z", endReason: nil, verdict: verdict, statistics: TrackerStatistics())
        m.nodeNames = [.local: "pc", NodeID(3): "n3"]
        return m
    }

    @Test("A manifest written by softcopy reads back: each file's size, checksum and nodes, its status and time")
    func readsBack() throws {
        let files = [file("zarr.json", [.local]), file("a/c/0", [.local, NodeID(3)], size: 4096)]
        let record = try ManifestRecord(try JSONParser.parse(bytes: manifest(files).bytes()))
        #expect(record.status == "verified" && record.isVerified && record.finished == "2026-12-06T11:00:00Z" && record.source == "/src")
        #expect(record.reference == files.map { CopyCheck.SourceFile(path: $0.path, size: $0.size, checksum: $0.checksum) })
        #expect(record.nodesByPath[path("a/c/0")] == ["pc", "n3"])
        let incomplete = try ManifestRecord(try JSONParser.parse(bytes: manifest(files, status: true).bytes()))
        #expect(incomplete.status == "incomplete" && !incomplete.isVerified)
    }

    @Test("A manifest that cannot be read whole is refused, naming the entry")
    func refusesDamaged() throws {
        let good = try JSONParser.parse(bytes: manifest([file("a/c/0", [.local])]).bytes())
        #expect(throws: ProtocolError("manifest: not a softcopy-manifest/1 manifest (format missing)")) { try ManifestRecord(.object([])) }
        guard case .object(var members) = good else { Issue.record("not an object"); return }
        let i = members.firstIndex { $0.key == "entries" }!
        members[i].value = .array([.object([("path", .string("a/c/0")), ("size", .integer(3)), ("xxh3_128", .string("xyz"))])])
        #expect(throws: ProtocolError("manifest: 'entries[0].xxh3_128' (a/c/0) must be 32 hex digits")) { try ManifestRecord(.object(members)) }
        members[i].value = .array([.object([("path", .string("../etc")), ("size", .integer(3))])])
        #expect(throws: ProtocolError("manifest: 'entries[0].path' must be a relative path")) { try ManifestRecord(.object(members)) }
    }

    @Test("The newest of several manifests is the one that finished last")
    func newest() throws {
        var older = manifest([file("a", [.local])])
        older.finished = "2026-12-05T09:00:00Z"
        let records = try [older, manifest([file("b", [.local])])].map { try ManifestRecord(try JSONParser.parse(bytes: $0.bytes())) }
        #expect(ManifestRecord.newest(of: records)?.files.map(\.path) == [path("b")])
    }

    @Test("The checksum list holds one node's files as xxh128sum writes them, and leaves out names it cannot carry")
    func checksumList() {
        let files = [file("zarr.json", [.local]), file("a/c/0", [NodeID(3)]), file("a/c/1", [.local, NodeID(3)]), file("a/b\\c", [.local]), file("a/new\nline", [.local])]
        let (bytes, leftOut) = ChecksumList.lines(files, holder: .local)
        #expect(String(decoding: bytes, as: UTF8.self) == "00000000000000ab000000000000000a  zarr.json\n00000000000000ab000000000000000a  a/c/1\n")
        #expect(leftOut == 2)
        #expect(String(decoding: ChecksumList.lines(files, holder: NodeID(3)).bytes, as: UTF8.self) == "00000000000000ab000000000000000a  a/c/0\n00000000000000ab000000000000000a  a/c/1\n")
        #expect(ChecksumList.lines(files, holder: nil).bytes.count == bytes.count + 40, "every file, for a shared filesystem")
        #expect(ChecksumList.isValid(bytes) && ChecksumList.isValid([]))
        #expect(!ChecksumList.isValid(Array("00000000000000ab000000000000000a  zarr.json".utf8)), "a last line without its newline")
        #expect(!ChecksumList.isValid(Array("00000000000000ab000000000000000a  ../x\n".utf8)))
        #expect(!ChecksumList.isValid(Array("{\"not\": \"a list\"}\n".utf8)))
        // SHA-256's lines: 64 hex digits; a file without a digest is left out and counted.
        let sha = String(repeating: "e3", count: 32)
        let (shaBytes, shaLeftOut) = ChecksumList.lines(files, holder: .local) { file, out in
            guard file.path.string != "zarr.json" else { return false }
            out += sha.utf8
            return true
        }
        #expect(String(decoding: shaBytes, as: UTF8.self) == sha + "  a/c/1\n")
        #expect(shaLeftOut == 3)
        #expect(ChecksumList.isValid(shaBytes, algorithm: .sha256) && !ChecksumList.isValid(shaBytes))
        #expect(!ChecksumList.isValid(bytes, algorithm: .sha256))
    }
}
