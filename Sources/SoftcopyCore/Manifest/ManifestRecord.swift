/// What a stored manifest says, read back: the files it lists with their size, checksum
/// and the nodes that held them, and the copy's status. `verify` checks a copy against
/// it when the source is gone (or with `--against-manifest`), and takes its nodes as the
/// placement record either way.
public struct ManifestRecord: Sendable {
    public struct File: Sendable, Hashable {
        public var path: RelativePath
        public var size: UInt64
        public var checksum: Checksum
        public var nodes: Set<String>
    }

    public var files: [File]
    /// "verified", "verified-with-leftovers" or "incomplete".
    public var status: String
    public var finished: String
    public var source: String

    /// Reads `json`; a manifest of another format, or an entry without a valid path, size
    /// or checksum, is an error that names the entry: a record that cannot be read whole
    /// cannot say a copy is whole.
    public init(_ json: JSONValue) throws(ProtocolError) {
        guard let format = json["format"]?.stringValue, format == Manifest.format else {
            throw ProtocolError("manifest: not a \(Manifest.format) manifest (format \(json["format"]?.stringValue.map { "'\($0)'" } ?? "missing"))")
        }
        guard let entries = json["entries"]?.arrayValue else { throw ProtocolError("manifest: 'entries' is missing") }
        status = json["status"]?.stringValue ?? "incomplete"
        finished = json["finished"]?.stringValue ?? ""
        source = json["source"]?.stringValue ?? ""
        files = []
        files.reserveCapacity(entries.count)
        for (i, entry) in entries.enumerated() {
            guard let text = entry["path"]?.stringValue, let path = try? RelativePath(validating: text) else {
                throw ProtocolError("manifest: 'entries[\(i)].path' must be a relative path")
            }
            guard let size = entry["size"]?.uint64Value else { throw ProtocolError("manifest: 'entries[\(i)].size' (\(text)) must be a whole number") }
            guard let hex = entry["xxh3_128"]?.stringValue, let checksum = Checksum(hex: hex) else {
                throw ProtocolError("manifest: 'entries[\(i)].xxh3_128' (\(text)) must be 32 hex digits")
            }
            let nodes = Set(entry["nodes"]?.arrayValue?.compactMap(\.stringValue) ?? [])
            files.append(File(path: path, size: size, checksum: checksum, nodes: nodes))
        }
    }

    /// The newest of several manifests of one copy (by `finished`): a node that was away
    /// at the end of the last run keeps an older one.
    public static func newest(of records: [ManifestRecord]) -> ManifestRecord? {
        records.max { $0.finished < $1.finished }
    }

    /// The run that wrote it judged the copy whole (`Manifest.status`: "verified", or
    /// "verified-with-leftovers" when only a crashed writer's temp files were left).
    public var isVerified: Bool { status == "verified" || status == "verified-with-leftovers" }

    /// Each file's nodes: the placement record.
    public var nodesByPath: [RelativePath: Set<String>] {
        Dictionary(files.map { ($0.path, $0.nodes) }, uniquingKeysWith: { a, _ in a })
    }

    /// The files as the reference a copy is checked against, in place of the source.
    public var reference: [CopyCheck.SourceFile] {
        files.map { CopyCheck.SourceFile(path: $0.path, size: $0.size, checksum: $0.checksum) }
    }
}
