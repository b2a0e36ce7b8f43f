import Glibc
public import SoftcopyCore

/// Lists one directory with opendir/readdir, taking the status of files with fstatat on
/// the open directory (one syscall per file, no path re-walk).
public enum DirectoryLister {
    public struct Entry: Sendable {
        public var name: String
        /// nil for directories (their version does not matter) and for entries that vanished.
        public var status: FileStatus?
        public var kind: FileStatus.Kind
    }

    /// Nil if the directory does not exist (it may have just been removed).
    public static func list(_ absolutePath: String) throws(SystemError) -> [Entry]? {
        guard let dir = opendir(absolutePath) else {
            let code = errno
            if code == ENOENT || code == ENOTDIR { return nil }
            throw SystemError("opendir", path: absolutePath, errno: code)
        }
        defer { closedir(dir) }
        let fd = dirfd(dir)
        var entries: [Entry] = []
        while true {
            errno = 0
            guard let entry = readdir(dir) else {
                if errno != 0 { throw SystemError("readdir", path: absolutePath) }
                break
            }
            let name = withUnsafePointer(to: entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name == "." || name == ".." { continue }
            let type = Int32(entry.pointee.d_type)
            if type == Int32(DT_DIR) {
                entries.append(Entry(name: name, status: nil, kind: .directory))
                continue
            }
            // Regular files need their version; DT_UNKNOWN (some filesystems) needs a stat too.
            guard let status = try FileStatus.of(name, in: fd, displayPath: absolutePath + "/" + name) else { continue }
            entries.append(Entry(name: name, status: status.kind == .directory ? nil : status, kind: status.kind))
        }
        return entries
    }

    /// Visits every entry under `root` (depth first, folders before their contents);
    /// `visit` returns whether to go into a folder. Folders that vanish are skipped.
    public static func walk(_ root: String, _ visit: (RelativePath, Entry) throws(SystemError) -> Bool) throws(SystemError) {
        var stack: [RelativePath] = [.root]
        while let folder = stack.popLast() {
            let absolute = folder.isRoot ? root : root + "/" + folder.string
            for entry in try list(absolute) ?? [] {
                let path = folder.appending(component: entry.name)
                if try visit(path, entry), entry.kind == .directory { stack.append(path) }
            }
        }
    }
}
