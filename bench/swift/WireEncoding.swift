// Why some messages keep a hand-written path beside the coders: the listing and the
// manifest (a million entries written by their own encoders, and through the Codable path
// of the other control messages: JSONValueEncoder, then JSONValue.serialized), and the four
// messages sent once per file (grants, bundle requests, acks and frames, through the coders
// and by hand). Compiled by bench/wire_encoding.sh; prints one line per encoder.

let count = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 1_000_000

func time(_ label: String, entries: Int = count, _ body: () -> Int) {
    let clock = ContinuousClock()
    var bytes = 0
    let elapsed = clock.measure { bytes = body() }
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    print("\(label): \((seconds * 1000).rounded() / 1000) s for \(entries) entries (\(bytes >> 20) MiB)")
}

let checksum = Checksum(high: 0x0123_4567_89ab_cdef, low: 0xfedc_ba98_7654_3210)
let entries = (0..<count).map { n in
    ListingEntry(path: RelativePath(unchecked: "0/c/\(n / 1000)/\(n % 1000)/0"), size: 16_384, checksum: checksum,
                 sourceVersion: FileVersion(inode: UInt64(n), size: 16_384, mtimeNanoseconds: 1_795_301_412_317_794_551, ctimeNanoseconds: 1_795_301_412_317_794_551))
}

/// The listing as a Codable type: `{"name": [flags, size, "hex", "token"]}`.
struct CodableListing: Encodable {
    let entries: [ListingEntry]

    struct Name: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Name.self)
        for entry in entries {
            var value = c.nestedUnkeyedContainer(forKey: Name(stringValue: entry.path.string))
            try value.encode(entry.flags)
            try value.encode(entry.size)
            try value.encode(entry.checksum?.hex)
            try value.encode(entry.sourceVersion?.token)
        }
    }
}

/// A manifest entry as a Codable type, with the members the manifest writes.
struct CodableManifestEntry: Encodable {
    let path: String
    let size: UInt64
    let xxh3_128: String
    let mtime_ns: Int64
    let nodes: [String]
}

time("listing, hand-written (AgentListing.encode)") {
    AgentListing.encode(entries, relativeTo: .root, checksums: true).utf8.count
}
time("listing, Codable (JSONValueEncoder + serialized)") {
    JSONValueEncoder.encode(CodableListing(entries: entries)).serialized().utf8.count
}
time("manifest entries, Codable (JSONValueEncoder + serialized)") {
    JSONValueEncoder.encode(entries.map { e in
        CodableManifestEntry(path: e.path.string, size: e.size, xxh3_128: e.checksum!.hex, mtime_ns: e.sourceVersion!.mtimeNanoseconds, nodes: ["acq-pc"])
    }).serialized().utf8.count
}

// Bundle frames: one header per small file, written by the coordinator and read by the
// agent. The Codable path that BundleFrame takes, against the same header built and read
// by hand as a JSONValue (how it was written before the messages became Codable).
let frames = (0..<count / 10).map { n in
    BundleFrame(path: RelativePath(unchecked: "0/c/\(n / 1000)/\(n % 1000)/0"),
                version: FileVersion(inode: UInt64(n), size: 16_384, mtimeNanoseconds: 1_795_301_412_317_794_551, ctimeNanoseconds: 1_795_301_412_317_794_551),
                checksum: checksum, mode: 0o644, length: 16_384)
}

func handHeader(_ f: BundleFrame) -> [UInt8] {
    var members: [(String, JSONValue)] = [("path", .string(f.path.string)), ("status", .integer(f.status))]
    if let version = f.version { members.append(("version", .string(version.token))) }
    if let checksum = f.checksum { members.append(("checksum", .string(checksum.hex))) }
    if let mode = f.mode { members.append(("mode", .string(String(mode, radix: 8)))) }
    members.append(("length", .integer(f.length)))
    return Array(JSONValue.object(members).serialized().utf8) + [0x0A]
}

func handRead(_ json: JSONValue) -> Int {
    guard let path = json["path"]?.stringValue, (try? RelativePath(validating: path)) != nil,
          let status = json["status"]?.uint64Value, let length = json["length"]?.uint64Value,
          let version = json["version"]?.stringValue.flatMap({ FileVersion(token: $0) }),
          let checksum = json["checksum"]?.stringValue.flatMap({ Checksum(hex: $0) }),
          let mode = json["mode"]?.stringValue.flatMap({ UInt32($0, radix: 8) }) else { return 0 }
    return Int(status + length + version.size + UInt64(mode)) &+ Int(truncatingIfNeeded: checksum.low)
}

let count10 = frames.count
time("bundle frame headers, by hand (JSONValue), written and read", entries: count10) {
    var total = 0
    for f in frames {
        let line = handHeader(f)
        total &+= handRead(try! JSONParser.parse(bytes: Array(line.dropLast())))
    }
    return total & 0
}
time("bundle frame headers, BundleFrame (hand-written path), written and read", entries: count10) {
    var total = 0
    for f in frames {
        let line = f.headerLine
        total &+= Int((try! BundleFrame(json: JSONParser.parse(bytes: Array(line.dropLast())))).length)
    }
    return total & 0
}

// The messages sent once per file, in batches of 64 as the agents send them: a lease
// grant (coordinator to agent), a bundle request and an ack (agent to coordinator), and
// the frames, each written, serialized, parsed and read: through the coders, and through
// the hand-written path that `ControlMessage` gives these four.
let batches = count / 10 / 64
let version = FileVersion(inode: 7, size: 16_384, mtimeNanoseconds: 1_795_301_412_317_794_551, ctimeNanoseconds: 1_795_301_412_317_794_551)
let batch = (0..<64).map { n in (LaneID(0), RelativePath(unchecked: "0/c/\(n / 10)/\(n % 10)/0"), LeaseID(UInt64(1_000_000 + n))) }
func throughCoders<M: ControlMessage>(_ message: M) -> Int {
    let bytes = Array(JSONValueEncoder.encode(message).serialized().utf8)
    return (try? JSONValueDecoder.decode(M.self, from: JSONParser.parse(bytes: bytes), context: M.messageName)) == nil ? 0 : bytes.count
}
func byHand<M: ControlMessage>(_ message: M) -> Int {
    let bytes = Array(message.json.serialized().utf8)
    return (try? M(body: bytes)) == nil ? 0 : bytes.count
}
let grant = LeaseGrant(items: batch.map { .init(lane: $0.0, path: $0.1, operation: .copy, lease: $0.2, size: 16_384) }, finished: false)
let request = BundleRequest(items: batch.map { .init(lane: $0.0, path: $0.1, lease: $0.2) })
let ack = AckReport(agent: NodeID(1), entries: batch.map {
    .init(lane: $0.0, path: $0.1, lease: $0.2, outcome: .copied(version: version, checksum: checksum, destinationInode: 9, bytesWritten: 16_384))
}, freeBytes: 1 << 40)
let frameBatch = Array(frames.prefix(64))
for (how, run) in [("through the coders", 0), ("by hand", 1)] {
    func go<M: ControlMessage>(_ m: M) -> Int { run == 0 ? throughCoders(m) : byHand(m) }
    time("lease grants of 64 items, \(how)", entries: batches * 64) { (0..<batches).reduce(0) { sum, _ in sum &+ go(grant) } }
    time("bundle requests of 64 items, \(how)", entries: batches * 64) { (0..<batches).reduce(0) { sum, _ in sum &+ go(request) } }
    time("acks of 64 entries, \(how)", entries: batches * 64) { (0..<batches).reduce(0) { sum, _ in sum &+ go(ack) } }
    time("bundle frames, one at a time, \(how)", entries: batches * 64) {
        (0..<batches).reduce(0) { sum, _ in frameBatch.reduce(sum) { $0 &+ go($1) } }
    }
}
