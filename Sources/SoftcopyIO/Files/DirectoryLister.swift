import CSoftcopyShims
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
        /// The extended attribute asked for, of a regular file that has it.
        public var attribute: [UInt8]? = nil
    }

    /// The longest extended attribute `list` reads.
    public static let attributeLimit = 1024

    /// Nil if the directory does not exist (it may have just been removed). With
    /// `attribute`, each regular file's extended attribute of that name is read too, beside
    /// the open directory where the kernel allows it (getxattrat, Linux 6.13).
    public static func list(_ absolutePath: String, attribute: String? = nil) throws(SystemError) -> [Entry]? {
        guard let dir = opendir(absolutePath) else {
            let code = errno
            if code == ENOENT || code == ENOTDIR { return nil }
            throw SystemError("opendir", path: absolutePath, errno: code)
        }
        defer { closedir(dir) }
        let fd = dirfd(dir)
        // The name is passed to fstatat and getxattrat as readdir gave it: a String's C
        // string costs an allocation per call, two per file of a million-file listing.
        let attributeName = attribute.map { Array($0.utf8CString) }
        var entries: [Entry] = []
        while true {
            errno = 0
            guard let entry = readdir(dir) else {
                if errno != 0 { throw SystemError("readdir", path: absolutePath) }
                break
            }
            let cName = (UnsafeRawPointer(entry) + MemoryLayout<dirent>.offset(of: \dirent.d_name)!).assumingMemoryBound(to: CChar.self)
            let name = String(cString: cName)
            if name == "." || name == ".." { continue }
            let type = Int32(entry.pointee.d_type)
            if type == Int32(DT_DIR) {
                entries.append(Entry(name: name, status: nil, kind: .directory))
                continue
            }
            // Regular files need their version; DT_UNKNOWN (some filesystems) needs a stat too.
            guard let status = try FileStatus.of(cName, in: fd, displayPath: absolutePath + "/" + name) else { continue }
            var listed = Entry(name: name, status: status.kind == .directory ? nil : status, kind: status.kind)
            if let attributeName, status.kind == .regular {
                listed.attribute = attributeName.withUnsafeBufferPointer { attribute in
                    read(attribute.baseAddress!, of: cName, in: fd, absolutePath: absolutePath)
                }
            }
            entries.append(listed)
        }
        return entries
    }

    private static func read(_ attribute: UnsafePointer<CChar>, of name: UnsafePointer<CChar>, in directory: Int32, absolutePath: String) -> [UInt8]? {
        withUnsafeTemporaryAllocation(byteCount: attributeLimit, alignment: 1) { buffer in
            var n = softcopy_getxattrat(directory, name, attribute, buffer.baseAddress, UInt(buffer.count))
            if n < 0, errno == ENOSYS {
                n = softcopy_lgetxattr(absolutePath + "/" + String(cString: name), attribute, buffer.baseAddress, UInt(buffer.count))
            }
            return n < 0 ? nil : Array(buffer[..<Int(n)])
        }
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
