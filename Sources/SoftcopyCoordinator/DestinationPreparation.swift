import Glibc
import Logging
import SoftcopyCore
import SoftcopyIO

/// Gets a destination ready at start: replays the journal of an earlier run, walks the
/// folder, removes the temp files a killed run left behind, and tells the tracker what
/// is there. A journal entry counts only if its file is still the same inode, size and
/// mtime; anything else found is "foreign": adopted if its checksum matches, else replaced.
enum DestinationPreparation {
    struct Result {
        var seeds: [(RelativePath, ArchiveTracker.DestinationSeed)] = []
        var fromJournal = 0
        var foreign = 0
        var temporariesRemoved = 0
        var skippedJournalLines = 0
    }

    static func run(destination: DestinationTree, logger: Logger) throws(SystemError) -> Result {
        var result = Result()
        let (journal, skipped) = try JournalFile.load(destinationRoot: destination.rootPath)
        result.skippedJournalLines = skipped

        var stack: [RelativePath] = [.root]
        while let directory = stack.popLast() {
            guard let entries = try destination.entries(in: directory) else { continue }
            for entry in entries {
                if directory.isRoot, entry.name == ZarrNaming.stateDirectoryName { continue }
                let path = directory.appending(component: entry.name)
                switch entry.kind {
                case .directory:
                    stack.append(path)
                case .regular:
                    if entry.name.hasPrefix(DestinationTree.temporaryPrefix) {
                        try destination.remove(path, syncDirectory: false)
                        result.temporariesRemoved += 1
                        continue
                    }
                    guard let status = entry.status else { continue }
                    if let record = journal[path], record.inode == status.version.inode,
                       record.version.size == status.version.size,
                       record.version.mtimeNanoseconds == status.version.mtimeNanoseconds {
                        result.seeds.append((path, .holds(record)))
                        result.fromJournal += 1
                    } else {
                        result.seeds.append((path, .foreign(size: status.version.size)))
                        result.foreign += 1
                    }
                case .symlink, .other:
                    logger.warning("the destination holds a non-regular file \(destination.displayPath(path)); it is left alone")
                }
            }
        }
        return result
    }
}
