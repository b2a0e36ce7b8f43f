import Glibc
import SoftcopyCore
import SoftcopyIO

/// Builds listings of folders under the agent's root, as JSON bytes written while the
/// folders are walked: one folder (PYME's listing) or a whole tree (what a coordinator
/// merges). With checksums, each file's XXH3-128 comes from the record softcopy left on
/// it when that record still describes the file (remembered in `records` while the file
/// is unchanged), and is computed by reading the file otherwise (or always, with `verify`).
struct AgentListingBuilder {
    let tree: DestinationTree
    let checksums: Bool
    let verify: Bool
    let records: RecordCache

    /// A folder being listed: where it is under the root, and its name in the listing
    /// (relative to the listed folder; empty for the listed folder itself).
    private struct Folder {
        var path: RelativePath
        var name: String
    }

    /// The listing of `directory` (see `AgentListing`), in pieces whose concatenation is
    /// the JSON (joined once, into the response); nil if there is no such folder.
    func listing(_ directory: RelativePath, recursive: Bool) throws(SystemError) -> [[UInt8]]? {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)
        defer { buffer.deallocate() }
        var out: [UInt8] = [UInt8(ascii: "{")]
        var level: [Folder] = []
        guard try write(Folder(path: directory, name: ""), recursive: recursive, into: &out, subfolders: &level, buffer: buffer) else { return nil }
        // Breadth first until there are folders enough to share out, then each subtree on
        // its own core: a listing of a million files is mostly stat and getxattr, and the
        // coordinator waits for it at the end of every run.
        while recursive, !level.isEmpty, level.count < Self.parallelFolders {
            var next: [Folder] = []
            for folder in level {
                _ = try write(folder, recursive: true, into: &out, subfolders: &next, buffer: buffer)  // gone meanwhile: nothing
            }
            level = next
        }
        let subtrees = level
        let parts = Parallel.map(subtrees.count) { i throws(SystemError) in
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)
            defer { buffer.deallocate() }
            var part: [UInt8] = []
            var stack = [subtrees[i]]
            while let folder = stack.popLast() {
                _ = try write(folder, recursive: true, into: &part, subfolders: &stack, buffer: buffer)
            }
            return part
        }
        var pieces = [out]
        var members = out.count > 1
        for part in parts {
            let bytes = try part.get()
            if bytes.isEmpty { continue }
            if members { pieces.append([UInt8(ascii: ",")]) }
            pieces.append(bytes)
            members = true
        }
        pieces.append([UInt8(ascii: "}")])
        return pieces
    }

    /// Folders a recursive listing fans out over (several per core, as subtrees differ).
    static let parallelFolders = 16

    /// The record softcopy left on each file, read beside the folder being listed.
    private static let recordAttribute = DirectoryLister.AttributeName(WrittenRecord.attributeName)

    /// The record on a file being listed that still describes it: remembered while the
    /// file is unchanged, else read from its attribute (and then remembered).
    private func writtenRecord(of open: DirectoryLister.OpenEntry, status: FileStatus) -> WrittenRecord? {
        if let remembered = records.record(for: status),
           remembered.describes(size: status.version.size, mtimeNanoseconds: status.version.mtimeNanoseconds) {
            return remembered
        }
        let record = WrittenRecord.current(attribute: open.attribute(Self.recordAttribute), status: status)
        if let record { records.remember(record, for: status) }
        return record
    }

    /// Writes the members for the entries of one folder to `out`; when recursive, its
    /// subfolders go to `subfolders`, to be visited next, and are not members themselves.
    /// False if there is no such folder.
    private func write(_ folder: Folder, recursive: Bool, into out: inout [UInt8],
                       subfolders: inout [Folder], buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> Bool {
        try tree.forEachEntry(in: folder.path) { open throws(SystemError) in
            let entry = open.entry
            if entry.name.hasPrefix(DestinationTree.temporaryPrefix) { return }
            switch entry.kind {
            case .directory:
                if recursive {
                    if entry.name != DestinationTree.stateDirectoryName {
                        subfolders.append(Folder(path: folder.path.appending(component: entry.name), name: Self.join(folder.name, entry.name)))
                    }
                    return
                }
                let children = try tree.entries(in: folder.path.appending(component: entry.name)) ?? []
                let isDataset = children.contains { ZarrNaming.nodeMetadataNames.contains(Substring($0.name)) }
                Self.appendSeparator(to: &out)
                JSONBytes.appendString(Self.join(folder.name, entry.name) + "/", to: &out)
                AgentListing.appendValue(flags: isDataset ? 3 : 1, size: UInt64(children.count), checksum: nil, sourceVersion: nil,
                                         checksums: false, to: &out)
            case .regular:
                guard let status = entry.status else { return }
                var size = status.version.size
                var checksum: Checksum?
                var sourceVersion: FileVersion?
                if checksums {
                    let record = writtenRecord(of: open, status: status)
                    if let record, !verify {
                        (checksum, sourceVersion) = (record.checksum, record.version)
                    } else {
                        // Read and hashed; a file that cannot be read is listed without a
                        // checksum, which the coordinator counts as not verified.
                        let path = folder.path.appending(component: entry.name)
                        if let fd = try? tree.openForReading(path), let (computed, length) = try? fd.checksum(buffer: buffer, path: path.string) {
                            (checksum, size) = (computed, length)
                            if let record, record.checksum == computed { sourceVersion = record.version }
                        }
                    }
                }
                Self.appendSeparator(to: &out)
                Self.appendName(folder.name, entry.name, to: &out)
                AgentListing.appendValue(flags: 0, size: size, checksum: checksum, sourceVersion: sourceVersion,
                                         checksums: checksums, to: &out)
            default:
                return  // symlinks and special files are not data softcopy wrote
            }
        }
    }

    private static func join(_ folder: String, _ name: String) -> String {
        folder.isEmpty ? name : folder + "/" + name
    }

    /// A comma before every member but the first of `out` (a whole listing or a part).
    private static func appendSeparator(to out: inout [UInt8]) {
        if let last = out.last, last != UInt8(ascii: "{") { out.append(UInt8(ascii: ",")) }
    }

    /// `"folder/name"` without a String in between, unless either needs escaping.
    private static func appendName(_ folder: String, _ name: String, to out: inout [UInt8]) {
        guard !folder.isEmpty, JSONBytes.isPlain(folder), JSONBytes.isPlain(name) else {
            JSONBytes.appendString(join(folder, name), to: &out)
            return
        }
        out.append(UInt8(ascii: "\""))
        out += folder.utf8
        out.append(UInt8(ascii: "/"))
        out += name.utf8
        out.append(UInt8(ascii: "\""))
    }
}
