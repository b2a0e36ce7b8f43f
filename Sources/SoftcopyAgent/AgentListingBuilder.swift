import Glibc
import SoftcopyCore
import SoftcopyIO

/// Builds listings of folders under the agent's root: one folder (PYME's listing) or a
/// whole tree (what a coordinator merges). With checksums, each file's XXH3-128 comes
/// from the record softcopy left on it when that record still describes the file, and is
/// computed by reading the file otherwise (or always, with `verify`).
struct AgentListingBuilder {
    let tree: DestinationTree
    let checksums: Bool
    let verify: Bool

    func list(_ directory: RelativePath, recursive: Bool) throws(SystemError) -> [ListingEntry]? {
        guard let entries = try DirectoryLister.list(tree.displayPath(directory)) else { return nil }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)
        defer { buffer.deallocate() }
        var result: [ListingEntry] = []
        guard recursive else {
            var unused: [RelativePath] = []
            try visit(directory, entries, recursive: false, into: &result, subfolders: &unused, buffer: buffer)
            return result
        }
        // Breadth first until there are folders enough to share out, then each subtree on
        // its own core: a listing of a million files is mostly stat, open and getxattr,
        // and the coordinator waits for it at the end of every run.
        var level: [RelativePath] = []
        try visit(directory, entries, recursive: true, into: &result, subfolders: &level, buffer: buffer)
        while !level.isEmpty, level.count < Self.parallelFolders {
            var next: [RelativePath] = []
            for folder in level {
                try visit(folder, into: &result, subfolders: &next, buffer: buffer)
            }
            level = next
        }
        guard !level.isEmpty else { return result }
        let subtrees = level
        let parts = Parallel.map(subtrees.count) { i throws(SystemError) in
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)
            defer { buffer.deallocate() }
            var part: [ListingEntry] = []
            var stack = [subtrees[i]]
            while let folder = stack.popLast() {
                try visit(folder, into: &part, subfolders: &stack, buffer: buffer)
            }
            return part
        }
        for part in parts { result += try part.get() }
        return result
    }

    /// Folders a recursive listing fans out over (several per core, as subtrees differ).
    static let parallelFolders = 16

    /// Lists one folder of a recursive listing (gone meanwhile: nothing).
    private func visit(_ folder: RelativePath, into result: inout [ListingEntry], subfolders: inout [RelativePath],
                       buffer: UnsafeMutableRawBufferPointer) throws(SystemError) {
        let entries = try DirectoryLister.list(tree.displayPath(folder)) ?? []
        try visit(folder, entries, recursive: true, into: &result, subfolders: &subfolders, buffer: buffer)
    }

    /// Lists the entries of one folder into `result`; when recursive, its subfolders go to
    /// `subfolders`, to be visited next.
    private func visit(_ folder: RelativePath, _ entries: [DirectoryLister.Entry], recursive: Bool, into result: inout [ListingEntry],
                       subfolders: inout [RelativePath], buffer: UnsafeMutableRawBufferPointer) throws(SystemError) {
        for entry in entries {
            if entry.name.hasPrefix(DestinationTree.temporaryPrefix) { continue }
            let path = folder.appending(component: entry.name)
            switch entry.kind {
            case .directory:
                if recursive {
                    if entry.name != DestinationTree.stateDirectoryName { subfolders.append(path) }
                } else {
                    let children = try DirectoryLister.list(tree.displayPath(path)) ?? []
                    let isDataset = children.contains { ZarrNaming.nodeMetadataNames.contains(Substring($0.name)) }
                    result.append(ListingEntry(path: path, isDirectory: true, isDataset: isDataset, size: UInt64(children.count)))
                }
            case .regular:
                guard let status = entry.status else { continue }
                var listed = ListingEntry(path: path, size: status.version.size, inode: status.version.inode)
                if checksums { describe(&listed, status: status, buffer: buffer) }
                result.append(listed)
            default:
                continue  // symlinks and special files are not data softcopy wrote
            }
        }
    }

    private func describe(_ entry: inout ListingEntry, status: FileStatus, buffer: UnsafeMutableRawBufferPointer) {
        let record = WrittenRecord.current(attribute: tree.attribute(WrittenRecord.attributeName, of: entry.path), status: status)
        if let record, !verify {
            entry.checksum = record.checksum
            entry.sourceVersion = record.version
            return
        }
        guard let fd = try? tree.openForReading(entry.path),
              let (checksum, length) = try? fd.checksum(buffer: buffer, path: entry.path.string) else { return }
        entry.checksum = checksum
        entry.size = length
        if let record, record.checksum == checksum { entry.sourceVersion = record.version }
    }
}
