import CSoftcopyShims
import Glibc
import Synchronization
public import SoftcopyCore

extension DestinationTree {
    /// What became of one staged file in a group commit.
    public enum StagedResult {
        case renamed
        /// `rename` declined it, saying why (at an agent: a newer version is already there).
        case declined(String)
        case failed(SystemError)
    }

    /// The group commit: makes the staged `files` durable, renames each through `rename`
    /// (given its position, it does the rename, or declines and says why), then makes the renames and the
    /// changes in the `removals`' folders durable. Each file's result, by position, and
    /// the folders whose last sync failed: nothing in them may be reported done.
    public func commit(
        _ files: [StagedFile], removals: Set<RelativePath>, rename: (Int) throws(SystemError) -> String?
    ) -> (results: [StagedResult], failedDirectories: [RelativePath: SystemError]) {
        let syncErrors = syncStaged(files)
        var renamed: [StagedFile] = []
        var results: [StagedResult] = []
        results.reserveCapacity(files.count)
        for (index, (file, syncError)) in zip(files, syncErrors).enumerated() {
            do throws(SystemError) {
                if let syncError { throw syncError }
                if let reason = try rename(index) {
                    results.append(.declined(reason))
                    continue
                }
            } catch {
                results.append(.failed(error))
                continue
            }
            renamed.append(file)
            results.append(.renamed)
        }
        return (results, syncRenames(renamed, directories: removals))
    }

    /// True if one syncfs of the root's filesystem makes all of `files` durable.
    private func oneSyncfsCovers(_ files: [StagedFile]) -> Bool {
        guard !files.isEmpty, let device = syncfsDevice else { return false }
        return files.allSatisfy { $0.status.device == device }
    }

    /// Makes staged files durable before their renames: one syncfs when all are on the
    /// root's filesystem (one journal commit for the batch), else an fsync each. The
    /// error for each file, by position; nil where it is durable.
    private func syncStaged(_ files: [StagedFile]) -> [SystemError?] {
        if oneSyncfsCovers(files) {
            do {
                try files[0].syncFileSystem()
                return Array(repeating: nil, count: files.count)
            } catch {
                return Array(repeating: error, count: files.count)
            }
        }
        var errors: [SystemError?] = []
        errors.reserveCapacity(files.count)
        for file in files {
            do {
                try file.sync()
                errors.append(nil)
            } catch {
                errors.append(error)
            }
        }
        return errors
    }

    /// Makes the renames of `renamed` and the changes in `directories` (removals) durable:
    /// one syncfs for the files when all are on the root's filesystem, else an fsync of
    /// each of their folders; the other folders are fsynced each. The folders that failed.
    private func syncRenames(_ renamed: [StagedFile], directories: Set<RelativePath>) -> [RelativePath: SystemError] {
        var failed: [RelativePath: SystemError] = [:]
        var remaining = directories
        if oneSyncfsCovers(renamed) {
            do {
                try renamed[0].syncFileSystem()
            } catch {
                for file in renamed { if let parent = file.path.parent { failed[parent] = error } }
            }
        } else {
            var synced: Set<RelativePath> = []
            for file in renamed {
                guard let parent = file.path.parent, synced.insert(parent).inserted else { continue }
                remaining.remove(parent)
                do {
                    try file.syncDirectory()
                } catch {
                    failed[parent] = error
                }
            }
        }
        for directory in remaining where failed[directory] == nil {
            do {
                try syncDirectory(directory)
            } catch {
                failed[directory] = error
            }
        }
        return failed
    }
}
