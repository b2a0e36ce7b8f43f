import Testing
import SoftcopyCore
import SoftcopyHTTP
import SoftcopyIO
import SoftcopyTesting

/// Runs `check` on the seeds, on every input in `regressions`, then on mutated seeds: up
/// to `iterations`, and for at most `seconds` (a slow machine tries fewer, never hangs).
/// `check` returns a problem (an invariant that does not hold) or nil; a crash ends the
/// test run, which is the loudest failure there is. Inputs are deterministic per `seed`;
/// an input that ever failed goes into `regressions` below, and is checked on every run.
func fuzz(
    seed: UInt64, seeds: [String], dictionary: [String] = [], iterations: Int = 25_000, seconds: Double = 4,
    _ check: ([UInt8]) -> String?
) {
    var mutator = InputMutator(seed: seed, seeds: seeds, dictionary: dictionary)
    let deadline = Clock.now() + .milliseconds(Int64(seconds * 1000))
    var tried = 0
    var problems: [String] = []
    for input in (seeds + regressions).map({ Array($0.utf8) }) {
        if let p = check(input) { problems.append("\(p) for \(String(decoding: input, as: UTF8.self).debugDescription)") }
    }
    while tried < iterations, Clock.now() < deadline, problems.count < 5 {
        let input = mutator.input()
        if let problem = check(input) {
            problems.append("\(problem) for input \(String(decoding: input, as: UTF8.self).debugDescription) (bytes \(input))")
        }
        tried += 1
    }
    #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    #expect(tried > 0)
}

/// Inputs that broke something once, checked by every target on every run, with some
/// hand-written hard cases. The zarr shape was found by this fuzzer: it overflowed the
/// files-per-dimension arithmetic and crashed the coordinator.
let regressions: [String] = [
    String(repeating: "[", count: 10_000),
    "{\"a\": 1e999999999999}",
    "\u{0}\u{0}",
    "targets:\n  - &a [*a]\n",
    "{\"zarr_format\": 3, \"node_type\": \"array\", \"shape\": [9223372036854775807, 9223372036854775807], \"chunk_grid\": {\"name\": \"regular\", \"configuration\": {\"chunk_shape\": [1, 1]}}, \"chunk_key_encoding\": {\"name\": \"default\"}}",
    "{\"zarr_format\": 2, \"shape\": [-5], \"chunks\": [0]}",
    "{\"zarr_format\": 2, \"shape\": [9223372036854775807], \"chunks\": [2]}",
    "/v1/files/%2e%2e/%2E%2e/etc/passwd",
    "/v1/files/a%00b",
]

@Suite("Fuzzing the parsers of untrusted input (bounded, deterministic)")
struct FuzzTests {
    @Test("JSON: never crashes; what parses serialises and parses to the same value; validating agrees with parsing")
    func json() {
        let seeds = [
            #"{"items": [{"target": 0, "path": "c/0/1/0", "op": "copy", "lease": 42, "size": 1048576}], "finished": false}"#,
            #"{"agent": 3, "results": [{"target": 0, "path": "c/0", "lease": 9, "outcome": "copied", "version": "1:2:3:4", "checksum": "00112233445566778899aabbccddeeff", "inode": 5, "bytes": 100}]}"#,
            #"{"a": [1, -2.5e10, "x\u00e9\n", true, null, NaN, Infinity], "b": {}}"#,
        ]
        fuzz(seed: 1, seeds: seeds, dictionary: ["\\u", "\"", "[", "{", "e+", "-0", "1e308", ",", ":"]) { input in
            let valid = JSONParser.isValid(bytes: input)
            guard valid == ((try? JSONParser.validate(bytes: input)) != nil) else { return "isValid and validate disagree" }
            guard let value = try? JSONParser.parse(bytes: input) else { return valid ? "validate accepted what parse refused" : nil }
            guard valid else { return "validate refused what parse accepted" }
            guard let again = try? JSONParser.parse(value.serialized()) else { return "its serialisation does not parse" }
            return again == value ? nil : "the value changed through a round trip"
        }
    }

    @Test("zarr metadata: never crashes; a parsed array's layout is consistent and its keys classify")
    func zarrMetadata() {
        let seeds = [
            #"{"zarr_format": 3, "node_type": "array", "shape": [40, 8, 512, 512], "data_type": "uint16", "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [1, 1, 256, 256]}}, "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}}, "codecs": [{"name": "sharding_indexed", "configuration": {"chunk_shape": [1, 1, 64, 64]}}], "fill_value": 0}"#,
            #"{"zarr_format": 3, "node_type": "group", "attributes": {"ome": {"multiscales": []}}}"#,
            #"{"zarr_format": 2, "shape": [10, 10], "chunks": [5, 5], "dtype": "<u2", "dimension_separator": ".", "fill_value": 0, "order": "C", "compressor": null, "filters": null}"#,
            #"{"zarr_format": 2}"#,
        ]
        fuzz(seed: 2, seeds: seeds, dictionary: ["\"shape\"", "\"chunks\"", "[0]", "[-1]", "9223372036854775807", "\"v2\"", "\"separator\""]) { input in
            for name in ["zarr.json", ".zarray", ".zgroup", ".zattrs"] {
                guard case .array(let layout)? = try? ZarrMetadataParser.parse(name: name, bytes: input) else { continue }
                if let grid = layout.fileGrid, grid.count != layout.shape.count { return "a file grid of rank \(grid.count) for a shape of rank \(layout.shape.count)" }
                _ = layout.maximumFileCount
                for key in ["c/0/0", "0.0", "c", "0", "c/1/2/3/4", "-1.0"] { _ = layout.classify(key: Substring(key)) }
            }
            return nil
        }
    }

    @Test("agent listings: never crash; every path decoded is a clean relative path; the streaming decoder agrees with the tree")
    func listings() {
        let entries = [
            ListingEntry(path: RelativePath(unchecked: "c/0/0"), size: 10, checksum: Checksum(high: 1, low: 2),
                         sourceVersion: FileVersion(inode: 1, size: 10, mtimeNanoseconds: 3, ctimeNanoseconds: 4)),
            ListingEntry(path: RelativePath(unchecked: "zarr.json"), size: 5),
            ListingEntry(path: RelativePath(unchecked: "c"), isDirectory: true, isDataset: false, size: 1),
        ]
        let seeds = [AgentListing.encode(entries, relativeTo: .root, checksums: true)]
        fuzz(seed: 3, seeds: seeds, dictionary: ["\"../x\"", "\"/etc\"", "\"a//b\"", "\"./\"", "[1, 2]", "\"zz\""]) { input in
            let streamed = try? AgentListing.decode(bytes: input, base: .root)
            guard let json = try? JSONParser.parse(bytes: input), let decoded = try? AgentListing.decode(json, base: .root) else {
                return streamed == nil ? nil : "the streaming decoder accepted a listing the tree refused"
            }
            if streamed != decoded { return "the streaming decoder read \(streamed.map { "\($0.count) entries" } ?? "nothing") where the tree read \(decoded.count)" }
            for entry in decoded {
                let parts = entry.path.string.split(separator: "/", omittingEmptySubsequences: false)
                if entry.path.string.hasPrefix("/") || parts.contains(where: { $0 == ".." || $0 == "." || $0.isEmpty }) || entry.path.string.contains("\u{0}") {
                    return "an unsafe path \(entry.path.string.debugDescription) was accepted"
                }
            }
            return nil
        }
    }

    @Test("targets files through libyaml: never crash; errors name the file; accepted targets are absolute and never overlap")
    func targetsFiles() throws {
        let seeds = [
            try String(decoding: readSmallFile(Tools.packageRoot + "/deploy/targets.example.yaml"), as: UTF8.self),
            "targets:\n  - source: a.zarr\n    destination: b.zarr\n    replicas: 2\n    placement: locality\nagents: [http://h:1]\n",
            "targets:\n  - {source: /x, destination: ~/y}\n  - source: \"/z\"\n    destination: 'w'\n",
            "watch:\n  - folder: acq\n    destination: /nas/{date}/{name}\n    pattern: '*.ome.zarr'\n  - {folder: /b, destination: 'c/{path}'}\n",
        ]
        fuzz(seed: 4, seeds: seeds, dictionary: ["../", "~/", "/", ":", "- ", "\n  ", "&a ", "*a", "!!str ", "{", "[", "\""], iterations: 10_000) { input in
            let file: TargetsFile
            do throws(ConfigError) {
                file = try TargetsFile.parse(try YAMLLoader.load(input, file: "t.yaml"), file: "t.yaml", baseDirectory: "/base", home: "/home/u")
            } catch {
                return error.description.contains("t.yaml") ? nil : "an error that does not name the file: \(error.description)"
            }
            for w in file.watches {
                let sample = w.target(relativePath: "x.zarr", date: "d", host: "h")
                guard w.folder.hasPrefix("/"), sample.destination.hasPrefix("/") else { return "a relative watch path was kept: \(w.folder) \(sample.destination)" }
                if PathNormalizer.isSameOrInside(sample.destination, w.folder) || PathNormalizer.isSameOrInside(w.folder, sample.destination) {
                    return "a destination overlapping its watched folder accepted: \(w.folder) \(w.destination)"
                }
            }
            for t in file.targets {
                guard t.source.hasPrefix("/"), t.destination.hasPrefix("/") else { return "a relative path was kept: \(t.source) \(t.destination)" }
                if PathNormalizer.isSameOrInside(t.destination, t.source) || PathNormalizer.isSameOrInside(t.source, t.destination) {
                    return "overlapping source and destination accepted: \(t.source) \(t.destination)"
                }
            }
            return nil
        }
    }

    @Test("request paths and destinations: whatever is accepted stays under the root")
    func requestPaths() {
        let seeds = ["/v1/files/acq.zarr/c/0/0", "/v1/list?destination=acq.zarr&recursive=1&checksums=1",
                     "/v1/jobs/j1/targets/0/files/c/0/0?lease=3", "acq.zarr", "/data/acq.zarr"]
        fuzz(seed: 5, seeds: seeds, dictionary: ["%2e%2e", "..", "%2f", "//", "%00", "./", "?", "&", "=", "%", "+", "/data/", "/data"]) { input in
            let uri = String(decoding: input, as: UTF8.self)
            let (components, query) = URLCoding.split(uri)
            let candidates = [components.dropFirst(2).joined(separator: "/"), query["destination"] ?? "", uri]
            for candidate in candidates {
                if let path = try? RelativePath(validating: candidate), !Self.isClean(path) {
                    return "validated an unsafe path \(path.string.debugDescription)"
                }
                if let resolved = try? JobAttachment.resolve(destination: candidate, root: "/data"), !Self.isClean(resolved) {
                    return "resolved \(candidate.debugDescription) to an unsafe path \(resolved.string.debugDescription)"
                }
            }
            return nil
        }
    }

    static func isClean(_ path: RelativePath) -> Bool {
        if path.isRoot { return true }
        let parts = path.string.split(separator: "/", omittingEmptySubsequences: false)
        return !path.string.hasPrefix("/") && !path.string.contains("\u{0}") && !parts.contains { $0 == ".." || $0 == "." || $0.isEmpty }
    }
}
