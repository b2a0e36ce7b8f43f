/// The manifest written at the destination (`DEST/.softcopy/manifest.json`) after the
/// end: what was copied and verified, with sizes and checksums, and every problem.
public struct Manifest: Sendable {
    public static let format = "softcopy-manifest/1"
    /// Where it is, relative to the destination root.
    public static let relativePath = RelativePath(unchecked: ZarrNaming.stateDirectoryName + "/manifest.json")

    public var softcopyVersion: String
    public var source: String
    public var destination: String
    public var host: String
    public var started: String
    public var finished: String
    public var endReason: EndReason?
    public var verdict: ArchiveVerdict
    public var statistics: TrackerStatistics
    /// Names of the nodes that hold files, by number (0: the coordinator's own destination).
    public var nodeNames: [NodeID: String] = [:]
    /// Where each named node's API is (its base URL): the read view on any node fetches
    /// the keys another node holds from there, after the coordinator has gone.
    public var nodeURLs: [NodeID: String] = [:]
    public var placement: String?
    /// Nodes that may still hold copies of keys whose current copy is elsewhere: a reader
    /// of a node's listing must not take those for the copy.
    public var superseded: [SupersededCopies] = []
    /// What removing the source did, when `remove_source` asked for it.
    public var sourceRemoval: SourceRemovalReport?

    public struct SupersededCopies: Sendable, Hashable {
        public var node: String
        /// Reached at the end (then its copies could not be removed), or away.
        public var reachable: Bool
        public var paths: [RelativePath]

        public init(node: String, reachable: Bool, paths: [RelativePath]) {
            self.node = node
            self.reachable = reachable
            self.paths = paths
        }
    }

    public init(
        softcopyVersion: String, source: String, destination: String, host: String, started: String,
        finished: String, endReason: EndReason?, verdict: ArchiveVerdict, statistics: TrackerStatistics
    ) {
        self.softcopyVersion = softcopyVersion
        self.source = source
        self.destination = destination
        self.host = host
        self.started = started
        self.finished = finished
        self.endReason = endReason
        self.verdict = verdict
        self.statistics = statistics
    }

    public var status: String {
        switch verdict.exitStatus {
        case .verified: "verified"
        case .verifiedWithLeftovers: "verified-with-leftovers"
        default: "incomplete"
        }
    }

    /// The whole manifest as a JSONValue (tests; small archives).
    public func json() -> JSONValue {
        guard case .object(var members) = header() else { return .null }
        members.append(("entries", .array(verdict.verified.map { f in
            .object(Self.pathMembers(f.path) + [
                ("size", .integer(f.size)),
                ("xxh3_128", .string(f.checksum.hex)),
                ("mtime_ns", .integer(f.mtimeNanoseconds)),
                ("nodes", .array(f.holders.map { .string(nodeName($0)) })),
            ] + (f.removedAt.map { [("removed_from_source_ns", JSONValue.integer($0))] } ?? []))
        })))
        return .object(members)
    }

    /// The manifest as JSON text (see `bytes(indent:)`).
    public func text(indent: Int? = nil) -> String {
        String(decoding: bytes(indent: indent), as: UTF8.self)
    }

    /// The manifest as JSON, the entries written directly as bytes, one per line: for a
    /// million files a JSONValue tree of them (or a String per field) cost seconds: 6.1 s
    /// through the Codable coders, against 0.47 s for the same entries written as the
    /// listing writes them (`bench/wire_encoding.sh`).
    /// `indent` indents the header as `JSONValue.serialized(indent:)` does. `entries`
    /// are the entry lines, if they were written apart (`entryLines`, on several cores).
    public func bytes(indent: Int? = nil, entries parts: [[UInt8]]? = nil) -> [UInt8] {
        let parts = parts ?? [entryLines(verdict.verified.indices)]
        var header = header().serialized(indent: indent)
        header.removeLast()  // the header's closing brace; the entries follow
        if indent != nil { header.removeLast() }  // and its newline
        var out = Array(header.utf8)
        out.reserveCapacity(out.count + parts.reduce(64) { $0 + $1.count })
        out += (indent == nil ? ",\"entries\":[" : ",\n" + String(repeating: " ", count: indent!) + "\"entries\": [").utf8
        for part in parts { out += part }
        out += (verdict.verified.isEmpty ? "]" : "\n]").utf8
        out += (indent == nil ? "}" : "\n}").utf8
        return out
    }

    /// The lines of the entries in `range` of `verdict.verified`, each with the separator
    /// that goes before it: the parts of a large manifest can be written side by side.
    public func entryLines(_ range: Range<Int>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(range.count * 150)
        // Each node's name as a JSON string, written once.
        var names: [NodeID: [UInt8]] = [:]
        for i in range {
            let f = verdict.verified[i]
            out += (i == 0 ? "\n{\"path\":" : ",\n{\"path\":").utf8
            JSONBytes.appendString(f.path.string, to: &out)
            if PathBytes.isEncoded(f.path.string) {
                out += ",\"path_hex\":\"".utf8
                out += Self.hex(f.path).utf8
                out.append(UInt8(ascii: "\""))
            }
            out += ",\"size\":".utf8
            JSONBytes.appendDecimal(f.size, to: &out)
            out += ",\"xxh3_128\":\"".utf8
            f.checksum.appendHex(to: &out)
            out += "\",\"mtime_ns\":".utf8
            JSONBytes.appendDecimal(f.mtimeNanoseconds, to: &out)
            out += ",\"nodes\":[".utf8
            for (j, holder) in f.holders.enumerated() {
                if j > 0 { out.append(UInt8(ascii: ",")) }
                if names[holder] == nil {
                    var name: [UInt8] = []
                    JSONBytes.appendString(nodeName(holder), to: &name)
                    names[holder] = name
                }
                out += names[holder]!
            }
            out.append(UInt8(ascii: "]"))
            if let removed = f.removedAt {
                out += ",\"removed_from_source_ns\":".utf8
                JSONBytes.appendDecimal(removed, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
        return out
    }

    /// `path`, and for a name that is not UTF-8 (`PathBytes`), `path_hex`: its bytes on
    /// disk, for tools that do not know the encoding.
    static func pathMembers(_ path: RelativePath) -> [(key: String, value: JSONValue)] {
        guard PathBytes.isEncoded(path.string) else { return [("path", .string(path.string))] }
        return [("path", .string(path.string)), ("path_hex", .string(hex(path)))]
    }

    static func hex(_ path: RelativePath) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: PathBytes.bytes(of: path.string).flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] }, as: UTF8.self)
    }

    private func nodeName(_ id: NodeID) -> String {
        nodeNames[id] ?? "node \(id)"
    }

    /// Everything but the entries.
    private func header() -> JSONValue {
        let v = verdict
        let paths: ([RelativePath]) -> JSONValue = { .array($0.map { .string($0.string) }) }
        let members: [(key: String, value: JSONValue)] = [
            ("format", .string(Self.format)),
            ("softcopy_version", .string(softcopyVersion)),
            ("status", .string(status)),
            ("source", .string(source)),
            ("destination", .string(destination)),
            ("host", .string(host)),
            ("started", .string(started)),
            ("finished", .string(finished)),
            ("end", endReason.map { .object([("reason", .string($0.code)), ("detail", .string($0.description))]) } ?? .null),
            ("checksum", .string(Checksum.algorithm)),
            ("files", .integer(v.verified.count)),
            ("bytes", .integer(v.verifiedBytes)),
            ("arrays", .integer(v.arrays)),
            ("groups", .integer(v.groups)),
            ("maximum_chunk_files", v.maximumChunkFiles.map { .integer($0) } ?? .null),
            ("found_by_final_rescan", .integer(v.foundByFinalScan)),
            ("placement", placement.map { .string($0) } ?? .null),
            ("node_urls", .object(nodeURLs.sorted { $0.key < $1.key }.map { (key: nodeName($0.key), value: JSONValue.string($0.value)) })),
            ("statistics", .object([
                ("copied_files", .integer(statistics.copiedFiles)),
                ("copied_bytes", .integer(statistics.copiedBytes)),
                ("unchanged", .integer(statistics.unchanged)),
                ("deleted_files", .integer(statistics.deletedFiles)),
                ("source_changes", .integer(statistics.sourceChanges)),
                ("retries", .integer(statistics.retries)),
                ("changed_while_reading", .integer(statistics.changedWhileReading)),
            ])),
            ("problems", .array(v.problems.map {
                .object(Self.pathMembers($0.path) + [("problem", .string($0.kind.description))])
            })),
            ("leftovers", paths(v.leftovers)),
            ("kept_deletions", paths(v.keptDeletions)),
            ("extraneous", paths(v.extraneous)),
            ("out_of_bounds", paths(v.outOfBounds)),
            ("skipped_symbolic_links", paths(v.skipped)),
            ("superseded", .array(superseded.map { s in
                .object([("node", .string(s.node)), ("reachable", .bool(s.reachable)), ("files", .integer(s.paths.count)), ("paths", paths(s.paths))])
            })),
            ("source_removal", sourceRemoval?.json() ?? .null),
        ]
        return .object(members)
    }
}
