/// The read view's record after the end: the manifest a node stores with its copy
/// (`DEST/.softcopy/manifest.json`), indexed by key. Each entry names the nodes that hold
/// its verified version; `node_urls` says where each node is. A manifest from before
/// `node_urls` still names the nodes: only keys this node holds can then be served.
public struct ManifestIndex: Sendable {
    struct Entry: Sendable {
        var size: UInt64
        var checksum: Checksum
        var holders: [UInt16]
    }

    private var entries: [RelativePath: Entry] = [:]
    private var holders: [ReadViewAnswer.Holder] = []
    /// Every key, sorted: a folder's children are a contiguous run.
    private var sorted: [RelativePath] = []

    public var count: Int { entries.count }

    /// Reads the manifest one top-level member at a time (the entries are the only large
    /// one); refuses one that is not a softcopy manifest.
    public init(bytes: [UInt8]) throws(ProtocolError) {
        var urls: [String: String] = [:]
        var raw: [JSONValue] = []
        do {
            var reader = try JSONParser.ObjectReader(bytes: bytes)
            var format: String?
            while let (key, value) = try reader.next() {
                switch key {
                case "format": format = value.stringValue
                case "node_urls": for (name, url) in value.objectValue ?? [] { urls[name] = url.stringValue ?? "" }
                case "entries": raw = value.arrayValue ?? []
                default: break
                }
            }
            guard format == Manifest.format else { throw ProtocolError("not a \(Manifest.format) manifest (format \(format ?? "missing"))") }
        } catch let error as JSONParser.Error {
            throw ProtocolError("the manifest is not valid JSON: \(error)")
        } catch let error as ProtocolError {
            throw error
        } catch {
            throw ProtocolError("\(error)")
        }
        var numbers: [String: UInt16] = [:]
        entries.reserveCapacity(raw.count)
        for (i, e) in raw.enumerated() {
            guard let text = e["path"]?.stringValue, let path = try? RelativePath(validating: text), let size = e["size"]?.uint64Value,
                  let hex = e["xxh3_128"]?.stringValue, let checksum = Checksum(hex: hex) else {
                throw ProtocolError("manifest entry \(i) needs a relative path, a size and an xxh3_128 checksum")
            }
            var held: [UInt16] = []
            for name in e["nodes"]?.arrayValue?.compactMap(\.stringValue) ?? [] {
                if numbers[name] == nil {
                    numbers[name] = UInt16(holders.count)
                    holders.append(.init(name: name, url: urls[name] ?? ""))
                }
                held.append(numbers[name]!)
            }
            entries[path] = Entry(size: size, checksum: checksum, holders: held)
        }
        sorted = entries.keys.sorted()
    }

    /// What the manifest says about `path` (the key under the destination).
    public func lookup(_ path: RelativePath) -> ReadViewAnswer {
        if let e = entries[path] {
            return .file(.init(size: e.size, checksum: e.checksum, holders: e.holders.map { holders[Int($0)] }))
        }
        // The keys inside the folder follow `path + "/"` in byte order.
        let start = path.isRoot ? 0 : lowerBound(path.string + "/")
        var inside: [RelativePath] = []
        for p in sorted[start...] {
            guard path.isRoot || p.isInside(path) else { break }
            inside.append(p)
        }
        return ReadViewAnswer.children(of: path, among: inside).map { .folder($0) } ?? .absent
    }

    private func lowerBound(_ prefix: String) -> Int {
        let key = RelativePath(unchecked: prefix)
        var low = 0, high = sorted.count
        while low < high {
            let mid = (low + high) / 2
            if sorted[mid] < key { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
