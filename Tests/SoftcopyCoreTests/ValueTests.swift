import Testing
@testable import SoftcopyCore

@Suite("JSON, paths, checksums, journal, quantities")
struct ValueTests {
    @Test("The tracker's record index finds every path it was given, through growth, and no other")
    func recordIndex() {
        var records: [ArchiveTracker.Record] = []
        var index = RecordIndex()
        for i in 0..<20_000 {
            let p = path(i % 3 == 0 ? "c/\(i / 100)/\(i % 100)" : "a/long/enough/folder/name/to/be/on/the/heap/\(i)")
            #expect(index.find(p, in: records) == nil)
            records.append(ArchiveTracker.Record(path: p, role: .data, lastChange: .zero))
            index.insert(i, in: records)
        }
        for (i, record) in records.enumerated() {
            #expect(index.find(record.path, in: records) == i)
        }
        #expect(index.find(path("c/x"), in: records) == nil)
        #expect(index.find(path("a/long/enough/folder/name/to/be/on/the/heap/20000"), in: records) == nil)
    }

    @Test("A failed folder sync turns only the outcomes of files directly in that folder into transient failures")
    func unsyncedFolder() {
        let copied = WorkOutcome.copied(version: version(7, size: 3), checksum: someChecksum, destinationInode: 9, bytesWritten: 3)
        let folder = path("c/0")
        #expect(copied.unsynced(folder, at: path("c/0/1"), because: "no room") == .failed(message: "no room", transient: true))
        #expect(WorkOutcome.deleted.unsynced(folder, at: path("c/0/2"), because: "no room") == .failed(message: "no room", transient: true))
        // A file in a subfolder, a sibling folder or the folder's parent kept its own sync.
        for other in ["c/0/1/0", "c/1/0", "c/00", "c"] {
            #expect(copied.unsynced(folder, at: path(other), because: "no room") == copied)
        }
    }

    @Test("The FIFO queue keeps order through growth and wrap-around, at the back and the front")
    func fifoQueue() {
        var queue = FIFOQueue<UInt32>()
        var model: [UInt32] = []
        var next: UInt32 = 0
        // A fixed, mixed pattern of pushes, front pushes and pops that wraps and grows.
        for step in 0..<5000 {
            switch step % 7 {
            case 0, 1, 2:
                queue.push(next)
                model.append(next)
                next += 1
            case 3:
                queue.pushFront(next)
                model.insert(next, at: 0)
                next += 1
            default:
                #expect(queue.pop() == (model.isEmpty ? nil : model.removeFirst()))
            }
            #expect(queue.count == model.count)
        }
        while let value = queue.pop() { #expect(value == model.removeFirst()) }
        #expect(model.isEmpty && queue.isEmpty)
    }

    @Test("JSON round trip keeps order and 64-bit integers")
    func jsonRoundTrip() throws {
        let text = #"{"b":[1,2,{"c":null}],"a":"x\"y\n","big":9007199254740993,"f":-1.5e3,"t":true}"#
        let value = try JSONParser.parse(text)
        #expect(value.serialized() == text)
        #expect(value["big"]?.int64Value == 9_007_199_254_740_993)
    }

    @Test("JSON errors carry line and column")
    func jsonErrors() {
        #expect(throws: JSONParser.Error(message: "expected ',' or '}' in object", line: 2, column: 8)) {
            _ = try JSONParser.parse("{\"a\": 1,\n\"b\": 2 \"c\"}")
        }
    }

    @Test("JSON rejects deep nesting instead of overflowing the stack")
    func jsonDepth() {
        #expect(throws: JSONParser.Error.self) {
            _ = try JSONParser.parse(String(repeating: "[", count: 10_000))
        }
    }

    @Test("JSON validation without building agrees with parsing, at the edges of the grammar")
    func jsonValidator() {
        let nested = { (depth: Int, inner: String) in String(repeating: "[", count: depth) + inner + String(repeating: "]", count: depth) }
        let cases: [String] = [
            "0", "-0", "-0.5e+3", "01", "1.", "1e", "-", "-Infinity", "-Inf", "NaN", "nan", "Infinity", "true", "tru", " null ",
            "{}", "[]", "[1,]", "{\"a\":1,}", "{\"a\" : [ 1 , {\"b\":{}} ] }", "{1:2}", "{\"a\"}", "[1 2]", "[1] x", "",
            "\"\\u00e9\\ud83d\\ude00\"", "\"\\ud83d\"", "\"\\ude00\"", "\"\\ud83dx\"", "\"\\u12g4\"", "\"\\x\"",
            "\"tab\there\"", "\"a\u{01}b\"", "\"é and c/0/1/2 and 0123456789abcdef0123456789abcdef\"", "\"unterminated 01234567",
            nested(255, "1"), nested(256, "1"), nested(255, "[]"), nested(256, "[]"), nested(10_000, ""),
        ]
        for text in cases {
            let parses = (try? JSONParser.parse(text)) != nil
            #expect(JSONParser.isValid(bytes: Array(text.utf8)) == parses, "\(text.prefix(80))")
            #expect(((try? JSONParser.validate(bytes: Array(text.utf8))) != nil) == parses, "\(text.prefix(80))")
        }
        // Bytes that are not UTF-8, in a plain string and beside an escape.
        for bytes: [UInt8] in [[0x22, 0xC3, 0x22], [0x22, 0xC3, 0xA9, 0x22], [0x22, 0xC3, 0x5C, 0x6E, 0x22], [0x22, 0x5C, 0x6E, 0xA9, 0x22]] {
            #expect(JSONParser.isValid(bytes: bytes) == ((try? JSONParser.parse(bytes: bytes)) != nil), "\(bytes)")
        }
        #expect(throws: JSONParser.Error(message: "expected ',' or '}' in object", line: 2, column: 8)) {
            try JSONParser.validate(bytes: Array("{\"a\": 1,\n\"b\": 2 \"c\"}".utf8))
        }
    }

    @Test("JSON strings escape exactly quotes, backslashes and control characters; the rest is copied as it is")
    func jsonEscapes() throws {
        let text = "plain c/0/1 \"q\" back\\slash\nline\rret\ttab\u{01}\u{1f}\u{7f} é😀 end"
        let serialized = JSONValue.string(text).serialized()
        #expect(serialized == #""plain c/0/1 \"q\" back\\slash\nline\rret\ttab\u0001\u001f\#u{7f} é😀 end""#)
        #expect(try JSONParser.parse(serialized).stringValue == text)
        #expect(JSONValue.string("").serialized() == #""""#)
        #expect(JSONValue.string("\"").serialized() == #""\"""#)
    }

    @Test("JSON accepts Python's NaN and Infinity, and unicode escapes")
    func jsonLenient() throws {
        let v = try JSONParser.parse(#"[NaN, Infinity, -Infinity, "\u00e9\ud83d\ude00"]"#)
        #expect(v.arrayValue?.count == 4)
        #expect(v.arrayValue?[3].stringValue == "é😀")
    }

    @Test("relative paths reject escapes", arguments: ["/etc/passwd", "a/../../b", "..", "a//b", "a/", "./a", "a\0b"])
    func badPaths(text: String) {
        #expect(throws: RelativePath.ValidationError.self) { _ = try RelativePath(validating: text) }
    }

    @Test("relative path operations")
    func pathOperations() {
        let p = path("A/1/c/0")
        #expect(p.name == "0")
        #expect(p.parent == path("A/1/c"))
        #expect(path("a").parent == .root)
        #expect(p.isInside(path("A/1")))
        #expect(!path("A/10/c").isInside(path("A/1")))
        #expect(p.relative(to: path("A/1")) == path("c/0"))
        // A name that starts with a combining mark: the '/' before it is still a separator.
        let combining = path("a/\u{301}b")
        #expect(combining.name == "\u{301}b" && combining.parent == path("a") && combining.components.count == 2)
        #expect(combining.isInside(path("a")))
    }

    @Test("Paths are bytes: names equal as text under Unicode (NFC and NFD) are different paths")
    func pathsAreBytes() {
        let precomposed = path("c/caf\u{e9}"), decomposed = path("c/cafe\u{301}")
        #expect(precomposed.string == decomposed.string, "Swift's String calls them equal")
        #expect(precomposed != decomposed)
        #expect(Set([precomposed, decomposed]).count == 2)
        #expect(precomposed < decomposed || decomposed < precomposed)
        #expect(!path("a/e\u{301}").isInside(path("a/e")) && path("a/e/x").isInside(path("a/e")))
        // Order and equality are those of the bytes, across the 8-byte words they compare by.
        var generator = SplitMix(seed: 11)
        let alphabet = Array("ab\u{e9}c0".unicodeScalars)
        let paths = (0..<400).map { _ in
            path((0..<Int(generator.next() % 4 + 1)).map { _ in
                String(String.UnicodeScalarView((0..<Int(generator.next() % 9 + 1)).map { _ in alphabet[Int(generator.next() % 5)] }))
            }.joined(separator: "/"))
        }
        for (a, b) in zip(paths, paths.shuffled(using: &generator)) {
            #expect((a < b) == Array(a.string.utf8).lexicographicallyPrecedes(Array(b.string.utf8)), "\(a) < \(b)")
            #expect((a == b) == (Array(a.string.utf8) == Array(b.string.utf8)))
        }
    }

    @Test("Names that are not UTF-8 survive as text and back to the same bytes; every text is canonical")
    func pathBytesRoundTrip() throws {
        var generator = SplitMix(seed: 7)
        // Latin-1, cut sequences, surrogates, overlongs, and the escape code points themselves.
        var samples: [[UInt8]] = [Array("caf".utf8) + [0xE9], [0xC3], [0xED, 0xA0, 0x80], [0xC0, 0xAF], [0xF4, 0x8F, 0xBF, 0xA9],
                                  [0xF4, 0x90, 0x80, 0x80], Array("plain".utf8), [0xF0, 0x9F, 0x98, 0x80], [0xFF, 0xFE]]
        for _ in 0..<2000 {
            samples.append((0..<Int(generator.next() % 12 + 1)).map { _ in UInt8(truncatingIfNeeded: generator.next() | 0x20) })
        }
        for bytes in samples {
            let text = PathBytes.string(from: bytes)
            #expect(PathBytes.bytes(of: text) == bytes, "\(bytes)")
            #expect(PathBytes.canonical(text) == text)
            #expect(PathBytes.byteCount(text) == bytes.count)
            if let valid = String(validating: bytes, as: UTF8.self), !valid.unicodeScalars.contains(where: { $0.value >= 0x10FF80 }) {
                #expect(text == valid, "valid UTF-8 is its own text")
            }
        }
        // Escapes that spell valid UTF-8 are the same path as the characters they spell.
        let spelled = "\u{10FFC3}\u{10FFA9}"
        #expect(try RelativePath(validating: "x/" + spelled) == path("x/\u{e9}"))
        #expect(try RelativePath(validating: "x/" + spelled).string == "x/\u{e9}")
        // Limits count bytes: 255 escaped bytes are one NAME_MAX name, 256 are too long.
        let long = PathBytes.string(from: [UInt8](repeating: 0xE9, count: 255))
        #expect(throws: Never.self) { _ = try RelativePath(validating: long) }
        #expect(throws: RelativePath.ValidationError.self) { _ = try RelativePath(validating: long + "\u{10FFE9}") }
        #expect(path("c/" + PathBytes.string(from: Array("caf".utf8) + [0xE9])).description == "c/caf\\xE9")
    }

    @Test("checksum hex is xxhash's canonical form")
    func checksumHex() {
        let c = Checksum(high: 0x0123_4567_89ab_cdef, low: 0xfedc_ba98_7654_3210)
        #expect(c.hex == "0123456789abcdeffedcba9876543210")
        #expect(Checksum(hex: c.hex) == c)
        #expect(Checksum(hex: "xyz") == nil)
    }

    @Test("journal lines round trip, with awkward paths")
    func journalRoundTrip() {
        let d = DestinationRecord(version: version(5, size: 42, mtime: 1_700_000_000_123_456_789), checksum: someChecksum, inode: 99)
        let latin1 = "c/" + PathBytes.string(from: Array("caf".utf8) + [0xE9])
        for p in ["c/0/0", "a b/100%/x\ty", "ünï/ko", latin1] {
            let record = JournalRecord.copied(path(p), d)
            let line = record.line
            #expect(line.hasSuffix("\n"))
            #expect(!line.unicodeScalars.contains { $0.value >= 0x10FF80 }, "the journal holds bytes, escaped: \(line)")
            #expect(JournalRecord(line: line.dropLast()) == record)
        }
        #expect(JournalRecord(line: JournalRecord.deleted(path("x y")).line.dropLast()) == .deleted(path("x y")))
    }

    @Test("journal replay: last record wins, torn lines are skipped")
    func journalReplay() {
        let d1 = DestinationRecord(version: version(1), checksum: someChecksum, inode: 1)
        let d2 = DestinationRecord(version: version(2), checksum: someChecksum, inode: 2)
        let origin = JournalRecord.originLine(CopyOrigin(host: "acq pc", source: "/data/a b.zarr", since: "x"))
        #expect(origin == "O acq%20pc /data/a%20b.zarr\n")
        let text = JournalRecord.header + "\n" + origin + JournalRecord.copied(path("a"), d1).line + JournalRecord.copied(path("b"), d1).line
            + JournalRecord.copied(path("a"), d2).line + JournalRecord.deleted(path("b")).line + "C c/0 12 3"
        let (records, skipped) = JournalRecord.replay(text[...])
        #expect(records == [path("a"): d2])
        #expect(skipped == 1)
    }

    @Test("journal lines that name an escaping path are rejected")
    func journalRejectsEscapes() {
        #expect(JournalRecord(line: "D ../../etc/passwd") == nil)
        #expect(JournalRecord(line: "D /etc/passwd") == nil)
    }

    @Test("durations", arguments: [("2", 2.0), ("0.5", 0.5), ("500ms", 0.5), ("2s", 2.0), ("5m", 300.0), ("1h", 3600.0)])
    func durations(text: String, seconds: Double) {
        #expect(Quantity.duration(text) == .secondsValue(seconds))
    }

    @Test("byte counts", arguments: [("1000", 1000 as UInt64), ("200M", 200_000_000), ("200MB/s", 200_000_000), ("1.5GiB", 1_610_612_736), ("4KiB", 4096)])
    func byteCounts(text: String, bytes: UInt64) {
        #expect(Quantity.byteCount(text) == bytes)
    }

    @Test("bad quantities are rejected", arguments: ["", "-1", "abc", "5x", "nan"])
    func badQuantities(text: String) {
        #expect(Quantity.duration(text) == nil)
        #expect(Quantity.byteCount(text) == nil)
    }

    @Test("formatting for people")
    func formatting() {
        #expect(Quantity.formatBytes(1_610_612_736) == "1.5 GiB")
        #expect(Quantity.formatBytes(512) == "512 B")
        #expect(Quantity.formatRate(bytesPerSecond: 150_000_000) == "143 MiB/s")
        #expect(Quantity.formatRate(bytesPerSecond: 2_000) == "2.0 KiB/s")
        #expect(Quantity.formatDuration(.seconds(200)) == "3 min 20 s")
        #expect(Quantity.format(0.05, decimals: 1) == "0.1")
    }

    @Test("token bucket holds the average rate and allows a burst")
    func tokenBucket() {
        var bucket = TokenBucket(bytesPerSecond: 1_000, burst: 500, now: ms(0))
        #expect(bucket.reserve(500, now: ms(0)) == .zero)
        #expect(bucket.reserve(1_000, now: ms(0)) == .seconds(1))
        // Two seconds later the debt is paid and the burst refilled, but no more.
        #expect(bucket.reserve(500, now: ms(3_000)) == .zero)
        #expect(bucket.reserve(100, now: ms(3_000)) == .milliseconds(100))
    }

    @Test("rate meter over a sliding window")
    func rateMeter() {
        var meter = RateMeter(window: .seconds(2))
        meter.record(total: 0, at: ms(0))
        meter.record(total: 1_000, at: ms(1_000))
        #expect(meter.bytesPerSecond == 1_000)
        meter.record(total: 1_000, at: ms(5_000))
        meter.record(total: 1_000, at: ms(6_000))
        #expect(meter.bytesPerSecond == 0)
    }

    @Test("path normalisation for targets files")
    func pathNormalizer() {
        #expect(PathNormalizer.absolute("data/a.zarr", base: "/etc/softcopy", home: nil) == "/etc/softcopy/data/a.zarr")
        #expect(PathNormalizer.absolute("~/a.zarr", base: "/x", home: "/home/u") == "/home/u/a.zarr")
        #expect(PathNormalizer.absolute("/a/./b/../c//", base: "/x", home: nil) == "/a/c")
        #expect(PathNormalizer.isSameOrInside("/a/b", "/a"))
        #expect(!PathNormalizer.isSameOrInside("/ab", "/a"))
    }

    @Test("Verified files sort by path exactly as paths sort (bytes): short, long, shared prefixes, non-ASCII")
    func verifiedFilesSortByPath() {
        let names = ["c/10/2", "c/1/2", "c/1", "zarr.json", "c/1/10", "a/very/long/shared/prefix/b", "a/very/long/shared/prefix/a",
                     "a/very/long/shared/prefi", "é/1", "e/1", "e\u{301}/1", "Z", "c/1/2/0", "c/01/2", "a/very/long/shared/prefix",
                     "aaaaaaaaaaaaaaae\u{301}", "aaaaaaaaaaaaaaaf", "aaaaaaaaaaaaaaae", "aaaaaaaaaaaaaaa\u{e9}"]
        let files = names.enumerated().map { i, name in
            ArchiveVerdict.VerifiedFile(path: path(name), role: .data, size: UInt64(i), checksum: someChecksum, mtimeNanoseconds: 0)
        }
        let sorted = ArchiveTracker.sortedByPath(files)
        #expect(sorted.map(\.path) == files.map(\.path).sorted())
        #expect(sorted.map(\.size).sorted() == files.map(\.size).sorted(), "every file kept once")
    }
}
