/// What the record of a copy says about one key of the read view: a file (its size, its
/// verified checksum and the nodes that hold that version), a folder (its children), or
/// nothing the cluster holds. The coordinator answers it from its trackers while the copy
/// runs (`GET /v1/jobs/{job}/view/{lane}/{path}`), and an agent from the manifest after
/// the end, so the view serves both the same way.
public enum ReadViewAnswer: Sendable, Equatable {
    case file(File)
    case folder([Entry])
    /// Not held: never copied, not yet verified, or deleted at the source.
    case absent
    /// Held before, and being copied again (its copy failed its check, or its node is
    /// gone): the view answers 503, as for a node that cannot be reached.
    case pending

    public struct File: Sendable, Equatable {
        public var size: UInt64
        public var checksum: Checksum
        /// Every node that holds exactly this version, named and with the URL of its API.
        public var holders: [Holder]

        public init(size: UInt64, checksum: Checksum, holders: [Holder]) {
            self.size = size
            self.checksum = checksum
            self.holders = holders
        }
    }

    public struct Holder: Sendable, Equatable {
        public var name: String
        /// Empty when the record names the node but not where it is (a node that was never
        /// reached, or the coordinator's own destination).
        public var url: String

        public init(name: String, url: String) {
            self.name = name
            self.url = url
        }
    }

    public struct Entry: Sendable, Equatable {
        public var name: String
        public var isFolder: Bool

        public init(name: String, isFolder: Bool) {
            self.name = name
            self.isFolder = isFolder
        }
    }

    public var json: JSONValue {
        switch self {
        case .file(let f):
            .object([("file", .object([
                ("size", .integer(f.size)), ("xxh3_128", .string(f.checksum.hex)),
                ("holders", .array(f.holders.map { .object([("name", .string($0.name)), ("url", .string($0.url))]) })),
            ]))])
        case .folder(let entries):
            .object([("folder", .array(entries.map { .object([("name", .string($0.name)), ("folder", .bool($0.isFolder))]) }))])
        case .absent:
            .object([("absent", .bool(true))])
        case .pending:
            .object([("pending", .bool(true))])
        }
    }

    public init(json: JSONValue) throws(ProtocolError) {
        if let f = json["file"] {
            guard let size = f["size"]?.uint64Value, let hex = f["xxh3_128"]?.stringValue, let checksum = Checksum(hex: hex),
                  let holders = f["holders"]?.arrayValue else { throw ProtocolError("read view answer: a file needs size, xxh3_128 and holders") }
            self = .file(File(size: size, checksum: checksum, holders: try holders.map { h throws(ProtocolError) in
                guard let name = h["name"]?.stringValue, let url = h["url"]?.stringValue else { throw ProtocolError("read view answer: a holder needs name and url") }
                return Holder(name: name, url: url)
            }))
        } else if let entries = json["folder"]?.arrayValue {
            self = .folder(try entries.map { e throws(ProtocolError) in
                guard let name = e["name"]?.stringValue, let folder = e["folder"]?.boolValue else { throw ProtocolError("read view answer: a folder entry needs name and folder") }
                return Entry(name: name, isFolder: folder)
            })
        } else if json["absent"] != nil {
            self = .absent
        } else if json["pending"] != nil {
            self = .pending
        } else {
            throw ProtocolError("read view answer: expected file, folder, absent or pending")
        }
    }

    /// The children of `folder` among `paths` (every held file): names of files directly
    /// in it and of the folders on the way to deeper ones, each once. Nil when nothing is
    /// held under it (the folder is not part of the view).
    public static func children(of folder: RelativePath, among paths: some Sequence<RelativePath>) -> [Entry]? {
        var files: Set<String> = [], folders: Set<String> = []
        var any = false
        for path in paths {
            guard path != folder, let inner = folder.isRoot ? path : path.relative(to: folder) else { continue }
            any = true
            let parts = inner.components
            if parts.count == 1 { files.insert(String(parts[0])) } else { folders.insert(String(parts[0])) }
        }
        guard any else { return nil }
        return (files.map { Entry(name: $0, isFolder: false) } + folders.map { Entry(name: $0, isFolder: true) }).sorted { $0.name < $1.name }
    }
}
