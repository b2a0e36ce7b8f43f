/// The groups and arrays of an archive, keyed by directory, built from metadata files as
/// they are seen. Groups are walked to any depth because every node's metadata file is
/// tracked on its own (OME-Zarr multiscales, plates, wells and labels are just nesting).
public struct ZarrHierarchy: Sendable {
    public private(set) var nodes: [RelativePath: ZarrNode] = [:]

    public init() {}

    /// Records what the metadata file at `path` says about its directory.
    public mutating func update(metadataFile path: RelativePath, node: ZarrNode) {
        guard let directory = path.parent else { return }
        switch node {
        case .attributes: return
        case .group, .array: nodes[directory] = node
        }
    }

    /// Forgets the node described by a deleted metadata file.
    public mutating func remove(metadataFile path: RelativePath) {
        guard ZarrNaming.nodeMetadataNames.contains(path.name), let directory = path.parent else { return }
        nodes[directory] = nil
    }

    /// Forgets every node in or below `directory` (a folder removed from the archive).
    public mutating func removeSubtree(_ directory: RelativePath) {
        for path in nodes.keys where path.isInside(directory) {
            nodes[path] = nil
        }
    }

    /// Keeps only the nodes for which `stillPresent` says a node metadata file exists.
    public mutating func prune(keeping stillPresent: (RelativePath) -> Bool) {
        for path in nodes.keys where !stillPresent(path) {
            nodes[path] = nil
        }
    }

    public var arrays: [(path: RelativePath, layout: ZarrArrayLayout)] {
        nodes.compactMap { path, node in
            if case .array(let layout) = node { return (path, layout) }
            return nil
        }.sorted { $0.path < $1.path }
    }

    public var groupCount: Int {
        nodes.values.reduce(0) { count, node in
            if case .group = node { return count + 1 }
            return count
        }
    }

    /// The most chunk files all known arrays can hold, or nil if some array's grid is unknown.
    public var maximumChunkFiles: UInt64? {
        var total: UInt64 = 0
        for (_, layout) in arrays {
            guard let n = layout.maximumFileCount else { return nil }
            total = total.addingReportingOverflow(n).overflow ? .max : total + n
        }
        return total
    }

    /// Finds the array that owns `path`, if any, and classifies the key within it.
    public func locate(_ path: RelativePath) -> (array: RelativePath, key: ChunkKeyClass)? {
        guard let parent = path.parent, let (array, layout) = owner(of: parent), let key = path.relative(to: array) else { return nil }
        return (array, layout.classify(key: key.string[...]))
    }

    /// The array that owns `path` and its element size when its chunks are raw
    /// (`ZarrArrayLayout.rawItemSize`): what wire compression needs to know of a chunk.
    public func chunkEncoding(of path: RelativePath) -> (array: RelativePath, rawItemSize: Int?)? {
        guard let parent = path.parent, let (array, layout) = owner(of: parent) else { return nil }
        return (array, layout.rawItemSize)
    }

    /// The array at `directory` or the nearest one above it.
    func owner(of directory: RelativePath) -> (array: RelativePath, layout: ZarrArrayLayout)? {
        var directory: RelativePath? = directory
        while let current = directory {
            if case .array(let layout) = nodes[current] { return (current, layout) }
            directory = current.parent
        }
        return nil
    }

    /// Locates many paths in turn, remembering the owner of the last folder: a verdict
    /// over a million chunk files asks about the same few folders again and again, and
    /// walking up from each file cost a string and a lookup per level.
    public struct Locator {
        private let hierarchy: ZarrHierarchy
        private var folder: Substring?
        private var owner: (array: RelativePath, layout: ZarrArrayLayout, filesPerDimension: [Int64]?)?

        public init(_ hierarchy: ZarrHierarchy) {
            self.hierarchy = hierarchy
        }

        /// What `ZarrHierarchy.locate` says of `path`.
        public mutating func locate(_ path: RelativePath) -> (array: RelativePath, key: ChunkKeyClass)? {
            let s = path.string
            guard !s.isEmpty else { return nil }
            let parent = s.utf8.lastIndex(of: UInt8(ascii: "/")).map { s[..<$0] } ?? s[s.startIndex..<s.startIndex]
            if parent != folder {
                folder = parent
                owner = hierarchy.owner(of: RelativePath(unchecked: String(parent))).map { ($0.array, $0.layout, $0.layout.filesPerDimension) }
            }
            guard let owner else { return nil }
            let key = owner.array.isRoot ? s[...] : s[s.utf8.index(s.startIndex, offsetBy: owner.array.string.utf8.count + 1)...]
            return (owner.array, owner.layout.classify(key: key, filesPerDimension: owner.filesPerDimension))
        }

        /// The array `path` is a chunk (or shard) file of, and the file's index along the
        /// array's first dimension; nil for anything else, or an array of rank 0.
        public mutating func firstIndex(_ path: RelativePath) -> (array: RelativePath, index: Int64)? {
            guard let (array, key) = locate(path), case .chunk = key, let owner, owner.layout.rank > 0 else { return nil }
            let s = path.string
            let name = array.isRoot ? s[...] : s[s.utf8.index(s.startIndex, offsetBy: array.string.utf8.count + 1)...]
            var first: Int64?
            _ = owner.layout.keyEncoding.visitIndex(forKey: name, rank: owner.layout.rank) { dimension, index in
                if dimension == 0 { first = index }
            }
            return first.map { (array, $0) }
        }
    }
}
