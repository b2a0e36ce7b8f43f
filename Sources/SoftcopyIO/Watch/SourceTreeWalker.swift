public import SoftcopyCore

/// Walks a source archive the way softcopy copies it: depth first, each folder announced
/// before it is listed (the watcher adds its inotify watch there, so nothing created in
/// between is lost), softcopy's own state folder at the root left out, and symbolic links
/// resolved by `SourceLinks`: a link to a file is that file, a link to a folder is walked
/// as that folder (inotify does not follow it: the scans do), and a link that would walk
/// a folder again inside itself is a problem, not an endless walk. The watcher's scans and
/// `verify` both walk the source through here.
public struct SourceTreeWalker {
    public enum Item {
        /// A file to copy (a regular file, or what a link points to).
        case file(RelativePath, FileStatus)
        /// A folder, reached by a link if `linked`; its entries follow.
        case directory(RelativePath, linked: Bool)
        /// Not copied, and a problem: a link outside the archive, a loop, a special file.
        case problem(RelativePath, String)
        /// Not copied, as `symlinks: skip` asks.
        case skipped(RelativePath)
        /// A folder that could not be listed.
        case unreadable(RelativePath, SystemError)
    }

    public let root: String
    public let links: SourceLinks

    public init(root: String, links: SourceLinks) {
        self.root = root
        self.links = links
    }

    public func absolute(_ path: RelativePath) -> String {
        path.isRoot ? root : root + "/" + path.string
    }

    /// One folder on the walk: where it is, whether a link led there, and the real
    /// folders of the links taken on the way (a link back to one of them is a loop).
    struct Folder {
        var path: RelativePath
        var linked: Bool
        var chain: [String]
    }

    /// Walks from `start` (a folder) down. `visit` gets every item; for a folder it says
    /// whether to go in.
    public func walk(from start: RelativePath = .root, linked: Bool = false, _ visit: (Item) -> Bool) {
        var stack = [Folder(path: start, linked: linked, chain: [])]
        while let folder = stack.popLast() {
            let entries: [DirectoryLister.Entry]
            do {
                guard let listed = try DirectoryLister.list(absolute(folder.path)) else { continue }
                entries = listed
            } catch {
                _ = visit(.unreadable(folder.path, error))
                continue
            }
            for entry in entries {
                let path = folder.path.appending(component: entry.name)
                switch entry.kind {
                case .directory:
                    // softcopy's own state folder (a source that is itself a copy) is not data.
                    if folder.path.isRoot, entry.name == ZarrNaming.stateDirectoryName { continue }
                    if visit(.directory(path, linked: folder.linked)) {
                        stack.append(Folder(path: path, linked: folder.linked, chain: folder.chain))
                    }
                case .regular:
                    if let status = entry.status { _ = visit(.file(path, status)) }
                case .symlink:
                    switch links.resolve(absolute(path)) {
                    case .file(let status, _):
                        _ = visit(.file(path, status))
                    case .directory(let target):
                        // A loop: the link leads to a folder the walk is already inside.
                        let here = realPath(absolute(folder.path)) ?? absolute(folder.path)
                        if PathNormalizer.isSameOrInside(here, target) || folder.chain.contains(target) {
                            _ = visit(.problem(path, "a symbolic link to \(PathBytes.display(target)), a folder it lies in (a loop): not walked"))
                        } else if visit(.directory(path, linked: true)) {
                            stack.append(Folder(path: path, linked: true, chain: folder.chain + [target]))
                        }
                    case .problem(let message):
                        _ = visit(.problem(path, message))
                    case .skip:
                        _ = visit(.skipped(path))
                    }
                case .other:
                    _ = visit(.problem(path, "a special file (FIFO, socket or device): there are no bytes to copy"))
                }
            }
        }
    }
}
