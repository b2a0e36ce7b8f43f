/// The on-demand check of a finished copy (`softcopy-coordinator verify`): every file at
/// the source must have `replicas` copies with its exact bytes (size and XXH3-128) on
/// distinct nodes. The nodes' listings are merged, PYME-style, and compared with the
/// source; nothing else is trusted.
public struct CopyCheck: Sendable {
    public struct SourceFile: Sendable, Hashable {
        public var path: RelativePath
        public var size: UInt64
        public var checksum: Checksum

        public init(path: RelativePath, size: UInt64, checksum: Checksum) {
            self.path = path
            self.size = size
            self.checksum = checksum
        }
    }

    public struct Copy: Sendable, Hashable {
        public var size: UInt64
        /// Nil when the node could not hash it.
        public var checksum: Checksum?

        public init(size: UInt64, checksum: Checksum?) {
            self.size = size
            self.checksum = checksum
        }
    }

    public struct Problem: Sendable, Hashable {
        public var path: RelativePath
        public var message: String

        public init(path: RelativePath, message: String) {
            self.path = path
            self.message = message
        }
    }

    /// A copy on a node that the record does not name for its key (or, with no record, a
    /// copy that differs while enough good ones exist elsewhere): not the copy, and not
    /// corruption of it either. `verify --repair` removes these.
    public struct Superseded: Sendable, Hashable {
        public var node: String
        public var path: RelativePath
        public var copy: Copy
        /// The same bytes as the source: a duplicate (else an older version).
        public var isDuplicate: Bool
    }

    public var files = 0
    public var bytes: UInt64 = 0
    public var problems: [Problem] = []
    /// Good copies per node.
    public var copiesPerNode: [String: Int] = [:]
    /// Files on nodes that the source does not have (deleted at the source, or foreign).
    public var extra = 0
    public var superseded: [Superseded] = []

    public var isWhole: Bool { problems.isEmpty }

    /// `nodes` maps each node's name to what it holds under the target's destination.
    /// `record` is the placement record (the newest manifest's nodes of each file): only
    /// the copies on the nodes it names count, and any other copy is superseded.
    public init(source: [SourceFile], nodes: [String: [RelativePath: Copy]], replicas: Int, record: [RelativePath: Set<String>]? = nil) {
        let names = nodes.keys.sorted()
        var known = Set<RelativePath>()
        for file in source.sorted(by: { $0.path < $1.path }) {
            known.insert(file.path)
            files += 1
            bytes &+= file.size
            let named = record?[file.path]
            var good: [String] = []
            var bad: [(String, Copy)] = []
            var aside: [String] = []
            for name in names {
                guard let copy = nodes[name]?[file.path] else { continue }
                let matches = copy.size == file.size && copy.checksum == file.checksum
                if let named, !named.contains(name) {
                    superseded.append(.init(node: name, path: file.path, copy: copy, isDuplicate: matches))
                    if matches { aside.append(name) }
                } else if matches {
                    good.append(name)
                } else {
                    bad.append((name, copy))
                }
            }
            // No record for this file: a copy that differs while enough good ones exist is
            // an older version left behind, not a copy gone bad.
            if named == nil, good.count >= replicas {
                superseded += bad.map { .init(node: $0.0, path: file.path, copy: $0.1, isDuplicate: false) }
                bad = []
            }
            for name in good { copiesPerNode[name, default: 0] += 1 }
            if !bad.isEmpty {
                problems.append(.init(path: file.path, message: "different bytes on \(bad.map(\.0).joined(separator: ", "))"))
            }
            if good.count < replicas {
                // Where the record put it and no good copy is: the node to look at.
                let absent = named.map { $0.subtracting(good).subtracting(bad.map(\.0)).sorted() } ?? []
                let on = absent.isEmpty ? "" : " (not on \(absent.joined(separator: ", ")), where the manifest puts it)"
                let need = (replicas == 1 ? "no node holds it" : "\(good.count) of \(replicas) copies\(good.isEmpty ? "" : " (on \(good.joined(separator: ", ")))")") + on
                let elsewhere = aside.isEmpty ? "" : "; a good copy is on \(aside.joined(separator: ", ")), which the manifest does not name (a run takes it into the record)"
                problems.append(.init(path: file.path, message: (good.isEmpty && replicas == 1 ? "missing: \(need)" : "missing copies: \(need)") + elsewhere))
            }
        }
        for name in names {
            extra += nodes[name]?.keys.filter { !known.contains($0) }.count ?? 0
        }
    }
}
