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
    }

    public var files = 0
    public var bytes: UInt64 = 0
    public var problems: [Problem] = []
    /// Good copies per node.
    public var copiesPerNode: [String: Int] = [:]
    /// Files on nodes that the source does not have (deleted at the source, or foreign).
    public var extra = 0

    public var isWhole: Bool { problems.isEmpty }

    /// `nodes` maps each node's name to what it holds under the target's destination.
    public init(source: [SourceFile], nodes: [String: [RelativePath: Copy]], replicas: Int) {
        let names = nodes.keys.sorted()
        var known = Set<RelativePath>()
        for file in source.sorted(by: { $0.path < $1.path }) {
            known.insert(file.path)
            files += 1
            bytes &+= file.size
            var good: [String] = []
            var bad: [String] = []
            for name in names {
                guard let copy = nodes[name]?[file.path] else { continue }
                if copy.size == file.size, copy.checksum == file.checksum {
                    good.append(name)
                } else {
                    bad.append(name)
                }
            }
            for name in good { copiesPerNode[name, default: 0] += 1 }
            if !bad.isEmpty {
                problems.append(.init(path: file.path, message: "different bytes on \(bad.joined(separator: ", "))"))
            }
            if good.count < replicas {
                let need = replicas == 1 ? "no node holds it" : "\(good.count) of \(replicas) copies\(good.isEmpty ? "" : " (on \(good.joined(separator: ", ")))")"
                problems.append(.init(path: file.path, message: good.isEmpty && replicas == 1 ? "missing: \(need)" : "missing copies: \(need)"))
            }
        }
        for name in names {
            extra += nodes[name]?.keys.filter { !known.contains($0) }.count ?? 0
        }
    }
}
