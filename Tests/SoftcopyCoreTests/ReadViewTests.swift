import Testing
import SoftcopyCore

@Suite("Read view: byte ranges and entity tags as zarr readers send them")
struct ReadViewTests {
    @Test("a Range header is one range or none (the whole file)", arguments: [
        ("bytes=0-99", ByteRange.from(0, through: 99)), ("bytes=100-", .from(100, through: nil)), ("bytes=-16", .suffix(16)),
        (" bytes = 5-5 ", nil), ("BYTES=1-2", .from(1, through: 2)), ("bytes=5-4", nil), ("bytes=0-1,4-5", nil),
        ("items=0-1", nil), ("bytes=-", nil), ("bytes=a-1", nil), ("bytes=+1-2", nil), ("bytes=99999999999999999999-", nil),
    ] as [(String, ByteRange?)])
    func parse(_ header: String, _ expected: ByteRange?) {
        #expect(ByteRange.parse(header) == expected, "\(header)")
    }

    @Test("a range resolves against the file's length: clipped at the end, 416 past it, a suffix longer than the file is the file")
    func resolve() {
        #expect(ByteRange.from(0, through: 99).resolve(length: 1000) == .part(offset: 0, length: 100))
        #expect(ByteRange.from(990, through: 2000).resolve(length: 1000) == .part(offset: 990, length: 10))
        #expect(ByteRange.from(1000, through: nil).resolve(length: 1000) == .unsatisfiable)
        #expect(ByteRange.suffix(16).resolve(length: 1000) == .part(offset: 984, length: 16))
        #expect(ByteRange.suffix(5000).resolve(length: 1000) == .part(offset: 0, length: 1000))
        #expect(ByteRange.suffix(0).resolve(length: 1000) == .unsatisfiable)
        #expect(ByteRange.suffix(4).resolve(length: 0) == .unsatisfiable)
        #expect(ByteRange.contentRange(.part(offset: 984, length: 16), total: 1000) == "bytes 984-999/1000")
        #expect(ByteRange.contentRange(.unsatisfiable, total: 1000) == "bytes */1000")
        #expect(ByteRange.contentRange(.whole, total: 1000) == nil)
    }

    @Test("the ETag is the checksum every node verified; If-None-Match compares weakly, If-Match strongly")
    func entityTag() {
        let tag = EntityTag(Checksum(high: 0x0123_4567_89ab_cdef, low: 0xfedc_ba98_7654_3210))
        #expect(tag.description == "\"xxh3-0123456789abcdeffedcba9876543210\"")
        #expect(tag.matchesNoneMatch("\"other\", \(tag)"))
        #expect(tag.matchesNoneMatch("W/\(tag)") && tag.matchesNoneMatch("*"))
        #expect(!tag.matchesNoneMatch("\"xxh3-0\""))
        #expect(tag.matchesIfMatch("\(tag)") && tag.matchesIfMatch("*"))
        #expect(!tag.matchesIfMatch("W/\(tag)"), "a weak tag never matches If-Match")
    }
}

@Suite("Read view: the record of who holds which version")
struct ReadViewRecordTests {
    @Test("the tracker serves a key once its copy is verified, says 'later' for a copy being made again, and nothing for a key deleted at the source")
    func trackerServedCopy() {
        var t = ArchiveTracker()
        t.observe(path("zarr.json"), .file(version(1)), cause: .renamedInto, at: ms(0))
        t.observe(path("c/0/0"), .file(version(2)), cause: .renamedInto, at: ms(0))
        #expect(t.servedCopy(path("c/0/0")) == nil, "not yet copied")
        let items = t.lease(maxItems: 10, now: ms(1))
        #expect(t.servedCopy(path("c/0/0")) == nil, "leased, not yet verified")
        for item in items { t.finishCopy(item, item.path.string == "zarr.json" ? version(1) : version(2), at: ms(2)) }
        guard case .held(let d)? = t.servedCopy(path("c/0/0")) else {
            Issue.record("a verified copy is served")
            return
        }
        #expect(d.checksum == someChecksum && d.version == version(2))
        #expect(t.servedPaths(under: .root).map(\.string).sorted() == ["c/0/0", "zarr.json"])
        #expect(t.servedPaths(under: path("c")).map(\.string) == ["c/0/0"])
        // Its node is gone at the end: the copy is lost, and made again.
        t.recordVerification(path("c/0/0"), matches: false, at: ms(3))
        #expect(t.servedCopy(path("c/0/0")) == .lost)
        #expect(t.servedPaths(under: path("c")).map(\.string) == ["c/0/0"], "still part of the archive")
        for item in t.lease(maxItems: 10, now: ms(4)) { t.finishCopy(item, version(2), at: ms(5)) }
        #expect(t.servedCopy(path("c/0/0")).map { if case .held = $0 { true } else { false } } == true)
        // Deleted at the source: its copy (kept until the end) is no longer the archive's.
        t.observe(path("c/0/0"), .absent, cause: .removed, at: ms(6))
        #expect(t.servedCopy(path("c/0/0")) == nil)
        #expect(t.servedPaths(under: path("c")).isEmpty)
    }

    @Test("a folder's children: files directly in it, folders on the way to deeper keys, each once; nothing under it is no folder")
    func children() {
        let paths = ["zarr.json", "c/0/0", "c/0/1", "c/1/0", "labels/zarr.json"].map(path)
        #expect(ReadViewAnswer.children(of: .root, among: paths) == [.init(name: "c", isFolder: true), .init(name: "labels", isFolder: true), .init(name: "zarr.json", isFolder: false)])
        #expect(ReadViewAnswer.children(of: path("c/0"), among: paths) == [.init(name: "0", isFolder: false), .init(name: "1", isFolder: false)])
        #expect(ReadViewAnswer.children(of: path("c/0/0"), among: paths) == nil, "a file is not a folder")
        #expect(ReadViewAnswer.children(of: path("d"), among: paths) == nil)
    }

    @Test("an answer crosses the wire unchanged, and a malformed one is refused with what is missing")
    func answerJSON() throws {
        let answers: [ReadViewAnswer] = [
            .file(.init(size: 7, checksum: someChecksum, holders: [.init(name: "n0", url: "http://127.0.0.1:1"), .init(name: "n 1", url: "")])),
            .folder([.init(name: "c", isFolder: true), .init(name: "zarr.json", isFolder: false)]), .absent, .pending,
        ]
        for answer in answers {
            #expect(try ReadViewAnswer(json: JSONParser.parse(answer.json.serialized())) == answer)
        }
        #expect(throws: ProtocolError.self) { try ReadViewAnswer(json: JSONParser.parse("{\"file\":{\"size\":1}}")) }
        #expect(throws: ProtocolError.self) { try ReadViewAnswer(json: JSONParser.parse("{}")) }
    }

    @Test("the manifest index: each key with its size, checksum and holders (their URLs from node_urls), folders from the sorted keys, and a file that is no manifest refused")
    func manifestIndex() throws {
        var verdict = ArchiveVerdict()
        verdict.verified = [
            .init(path: path("zarr.json"), role: .metadata, size: 10, checksum: Checksum(high: 0, low: 1), mtimeNanoseconds: 1, holders: [NodeID(1), NodeID(2)]),
            .init(path: path("c/0/0"), role: .data, size: 20, checksum: Checksum(high: 0, low: 2), mtimeNanoseconds: 1, holders: [NodeID(2)]),
            .init(path: path("c-x"), role: .data, size: 5, checksum: Checksum(high: 0, low: 3), mtimeNanoseconds: 1, holders: [NodeID(3)]),
        ]
        var manifest = Manifest(softcopyVersion: "t", source: "/s", destination: "d", host: "h", started: "", finished: "", endReason: nil,
                                verdict: verdict, statistics: TrackerStatistics())
        manifest.nodeNames = [NodeID(1): "n1", NodeID(2): "n2", NodeID(3): "n3"]
        manifest.nodeURLs = [NodeID(1): "http://a:1", NodeID(2): "http://b:2"]
        for indent in [nil, 1] as [Int?] {
            let index = try ManifestIndex(bytes: manifest.bytes(indent: indent))
            #expect(index.count == 3)
            #expect(index.lookup(path("zarr.json")) == .file(.init(size: 10, checksum: Checksum(high: 0, low: 1),
                                                                   holders: [.init(name: "n1", url: "http://a:1"), .init(name: "n2", url: "http://b:2")])))
            #expect(index.lookup(path("c-x")) == .file(.init(size: 5, checksum: Checksum(high: 0, low: 3), holders: [.init(name: "n3", url: "")])))
            #expect(index.lookup(.root) == .folder([.init(name: "c", isFolder: true), .init(name: "c-x", isFolder: false), .init(name: "zarr.json", isFolder: false)]))
            #expect(index.lookup(path("c")) == .folder([.init(name: "0", isFolder: true)]))
            #expect(index.lookup(path("c/1")) == .absent)
        }
        #expect(throws: ProtocolError.self) { try ManifestIndex(bytes: Array("{\"format\":\"other\",\"entries\":[]}".utf8)) }
        #expect(throws: ProtocolError.self) { try ManifestIndex(bytes: Array("{\"format\":".utf8)) }
    }
}
