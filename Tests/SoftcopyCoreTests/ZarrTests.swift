import Testing
import SoftcopyCore

@Suite("Zarr naming, keys and metadata")
struct ZarrTests {
    @Test("file roles", arguments: [
        ("zarr.json", FileRole.metadata), (".zarray", .metadata), ("a/.zgroup", .metadata), (".zattrs", .metadata),
        (".zmetadata", .metadata), ("c/0/0", .data), ("0.0", .data), ("complete", .endMarker), ("a/complete", .data),
        ("c/0/0.__lock", .temporary), ("zarr.json_0123456789abcdef.__lock", .temporary),
        ("1.4f469ff1fab8401fbff25b98e0284bbc.partial", .temporary),
    ])
    func roles(name: String, role: FileRole) {
        #expect(ZarrNaming.role(of: path(name)) == role)
    }

    @Test("chunk keys for each encoding, and back", arguments: [
        (ChunkKeyEncoding.v2(separator: "."), [1, 2, 3] as [Int64], "1.2.3"),
        (.v2(separator: "/"), [1, 2, 3], "1/2/3"),
        (.v3Default(separator: "/"), [1, 2, 3], "c/1/2/3"),
        (.v3Default(separator: "."), [1, 2, 3], "c.1.2.3"),
        (.v2(separator: "."), [], "0"),
        (.v3Default(separator: "/"), [], "c"),
    ])
    func keys(encoding: ChunkKeyEncoding, index: [Int64], key: String) {
        #expect(encoding.key(for: index) == key)
        #expect(encoding.index(forKey: key[...], rank: index.count) == index)
    }

    @Test("malformed keys are not chunks", arguments: ["c/1/x", "c/1", "1.2", "c/-1/2/3", "c//1/2", "d/1/2/3"])
    func malformedKeys(key: String) {
        #expect(ChunkKeyEncoding.v3Default(separator: "/").index(forKey: key[...], rank: 3) == nil)
    }

    @Test("zarr v2 array metadata")
    func v2Array() throws {
        let text = #"{"zarr_format": 2, "shape": [10, 7], "chunks": [4, 7], "dtype": "<u2", "dimension_separator": "/", "fill_value": NaN}"#
        let node = try ZarrMetadataParser.parse(name: ".zarray", bytes: Array(text.utf8))
        guard case .array(let layout) = node else { Issue.record("not an array"); return }
        #expect(layout.keyEncoding == .v2(separator: "/"))
        #expect(layout.filesPerDimension == [3, 1])
        #expect(layout.maximumFileCount == 3)
    }

    @Test("zarr v2 arrays default to the '.' separator")
    func v2DefaultSeparator() throws {
        let text = #"{"zarr_format": 2, "shape": [4], "chunks": [2]}"#
        guard case .array(let layout) = try ZarrMetadataParser.parse(name: ".zarray", bytes: Array(text.utf8)) else { return }
        #expect(layout.keyEncoding == .v2(separator: "."))
    }

    @Test("zarr v3 sharded array: the shard grid is the file grid")
    func v3Sharded() throws {
        let text = #"""
        {"zarr_format": 3, "node_type": "array", "shape": [100, 64, 64], "data_type": "uint16",
         "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [10, 64, 64]}},
         "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
         "codecs": [{"name": "sharding_indexed", "configuration": {"chunk_shape": [1, 32, 32], "codecs": [{"name": "bytes"}]}}]}
        """#
        guard case .array(let layout) = try ZarrMetadataParser.parse(name: "zarr.json", bytes: Array(text.utf8)) else {
            Issue.record("not an array"); return
        }
        #expect(layout.sharded)
        #expect(layout.maximumFileCount == 10)
        #expect(layout.classify(key: "c/9/0/0") == .chunk(inBounds: true))
        #expect(layout.classify(key: "c/10/0/0") == .chunk(inBounds: false))
    }

    @Test("zarr v3 with the v2 key encoding, and a 0-d array")
    func v3V2EncodingAndScalar() throws {
        let text = #"{"zarr_format": 3, "node_type": "array", "shape": [], "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": []}}, "chunk_key_encoding": {"name": "v2"}}"#
        guard case .array(let layout) = try ZarrMetadataParser.parse(name: "zarr.json", bytes: Array(text.utf8)) else {
            Issue.record("not an array"); return
        }
        #expect(layout.keyEncoding == .v2(separator: "."))
        #expect(layout.maximumFileCount == 1)
        #expect(layout.classify(key: "0") == .chunk(inBounds: true))
    }

    @Test("malformed metadata is rejected with a reason", arguments: [
        ("zarr.json", #"{"zarr_format": 3, "node_type": "array", "shape": [-1]}"#, "non-negative"),
        ("zarr.json", #"{"zarr_format": 2, "node_type": "group"}"#, "zarr_format is 2"),
        ("zarr.json", #"{"zarr_format": 3, "node_type": "array", "shape": [2], "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [1]}}, "chunk_key_encoding": {"name": "weird"}}"#, "unsupported chunk_key_encoding"),
        (".zarray", #"{"zarr_format": 2, "shape": [2, 2], "chunks": [1]}"#, "dimensions"),
        (".zarray", #"{"zarr_format": 2, "shape": [2], "chunks": [1], "dimension_separator": "-"}"#, "dimension_separator"),
        (".zgroup", #"{"zarr_format": 2,"#, "not valid JSON"),
    ])
    func malformed(name: String, text: String, reason: String) {
        #expect {
            _ = try ZarrMetadataParser.parse(name: name, bytes: Array(text.utf8))
        } throws: { error in
            "\(error)".contains(reason)
        }
    }

    @Test("the hierarchy finds the array that owns a chunk, at any depth (OME-Zarr)")
    func hierarchy() {
        var h = ZarrHierarchy()
        let level = ZarrArrayLayout(zarrFormat: 3, shape: [4, 8], fileGrid: [2, 4], keyEncoding: .v3Default(separator: "/"), sharded: false)
        h.update(metadataFile: path("zarr.json"), node: .group(zarrFormat: 3))
        h.update(metadataFile: path("A/1/0/zarr.json"), node: .group(zarrFormat: 3))
        h.update(metadataFile: path("A/1/0/0/zarr.json"), node: .array(level))
        h.update(metadataFile: path("A/1/0/1/zarr.json"), node: .array(level))
        #expect(h.locate(path("A/1/0/0/c/1/1"))?.array == path("A/1/0/0"))
        #expect(h.locate(path("A/1/0/0/c/1/1"))?.key == .chunk(inBounds: true))
        #expect(h.locate(path("A/1/0/1/c/5/0"))?.key == .chunk(inBounds: false))
        #expect(h.locate(path("A/1/0/zarr.json")) == nil)
        #expect(h.maximumChunkFiles == 8)
        #expect(h.groupCount == 2)
        h.remove(metadataFile: path("A/1/0/1/zarr.json"))
        #expect(h.maximumChunkFiles == 4)
    }

    @Test("The locator that remembers the last folder's array says what locate says, path after path")
    func locatorAgreesWithLocate() {
        var h = ZarrHierarchy()
        let root = ZarrArrayLayout(zarrFormat: 3, shape: [3, 4], fileGrid: [1, 2], keyEncoding: .v3Default(separator: "/"), sharded: false)
        let nested = ZarrArrayLayout(zarrFormat: 2, shape: [4], fileGrid: [2], keyEncoding: .v2(separator: "."), sharded: false)
        h.update(metadataFile: path("zarr.json"), node: .array(root))
        h.update(metadataFile: path("g/.zgroup"), node: .group(zarrFormat: 2))
        h.update(metadataFile: path("g/a/.zarray"), node: .array(nested))
        let paths = ["c/0/0", "c/0/1", "c/2/1", "c/3/0", "c/0/2", "zarr.json", "c/x/0", "g/a/0", "g/a/1", "g/a/2", "g/a/.zarray",
                     "g/.zgroup", "c/1/1", "g/a/0", "c/1", "g/b/0", "c/0/0"].map(path)
        var locator = ZarrHierarchy.Locator(h)
        for p in paths {
            let (expected, found) = (h.locate(p), locator.locate(p))
            #expect(found?.array == expected?.array && found?.key == expected?.key, "\(p)")
        }
        #expect(locator.locate(path("c/2/1"))?.key == .chunk(inBounds: true))
        #expect(locator.locate(path("c/3/0"))?.key == .chunk(inBounds: false))
        #expect(locator.locate(path("g/a/2"))?.key == .chunk(inBounds: false))
        #expect(locator.locate(path("g/a/0"))?.array == path("g/a"))
    }
}

@Suite("Zarr layouts at the limits")
struct ZarrLimitTests {
    @Test("A huge or negative shape never overflows the file count (found by fuzzing)")
    func hugeShapes() {
        let huge = ZarrArrayLayout(zarrFormat: 2, shape: [Int64.max, Int64.max], fileGrid: [2, 1], keyEncoding: .v2(separator: "."), sharded: false)
        #expect(huge.filesPerDimension == [Int64.max / 2 + 1, Int64.max])
        #expect(huge.maximumFileCount == .max)
        let negative = ZarrArrayLayout(zarrFormat: 2, shape: [-5], fileGrid: [0], keyEncoding: .v2(separator: "."), sharded: false)
        #expect(negative.maximumFileCount == 0)
        #expect(negative.classify(key: "0") == .chunk(inBounds: false))
    }
}
