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
        var result: [ListingEntry] = []
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)
        defer { buffer.deallocate() }
        var stack: [(RelativePath, [DirectoryLister.Entry])] = [(directory, entries)]
        while let (folder, entries) = stack.popLast() {
            for entry in entries {
                if entry.name.hasPrefix(DestinationTree.temporaryPrefix) { continue }
                let path = folder.appending(component: entry.name)
                switch entry.kind {
                case .directory:
                    if recursive && entry.name == DestinationTree.stateDirectoryName { continue }
                    let children = try DirectoryLister.list(tree.displayPath(path)) ?? []
                    if recursive {
                        stack.append((path, children))
                    } else {
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
        return result
    }

    private func describe(_ entry: inout ListingEntry, status: FileStatus, buffer: UnsafeMutableRawBufferPointer) {
        guard let fd = try? tree.openForReading(entry.path) else { return }
        let record = WrittenRecord.current(on: fd, status: status)
        if let record, !verify {
            entry.checksum = record.checksum
            entry.sourceVersion = record.version
            return
        }
        guard let (checksum, length) = try? fd.checksum(buffer: buffer, path: entry.path.string) else { return }
        entry.checksum = checksum
        entry.size = length
        if let record, record.checksum == checksum { entry.sourceVersion = record.version }
    }
}
