import CSoftcopyShims
import Glibc
import SoftcopyCore

/// Lists one directory with opendir/readdir, taking the status of files with fstatat on
/// the open directory (one syscall per file, no path re-walk).
public enum DirectoryLister {
    public struct Entry: Sendable {
        public var name: String
        /// nil for directories (their version does not matter) and for entries that vanished.
        public var status: FileStatus?
        public var kind: FileStatus.Kind
    }

    /// An entry met by `forEach` while its folder is still open, so that an extended
    /// attribute can be read beside it when the caller needs it. Valid only during the call.
    public struct OpenEntry {
        public let entry: Entry
        let directory: Int32
        let cName: UnsafePointer<CChar>

        /// The extended attribute `name` of this entry (at most `attributeLimit` bytes),
        /// read beside the open folder where the kernel allows it (getxattrat, Linux 6.13);
        /// nil if it has none.
        public func attribute(_ name: AttributeName) -> [UInt8]? {
            withUnsafeTemporaryAllocation(byteCount: attributeLimit, alignment: 1) { buffer in
                name.cString.withUnsafeBufferPointer { attribute in
                    var n = softcopy_getxattrat(directory, cName, attribute.baseAddress!, buffer.baseAddress, UInt(buffer.count))
                    if n < 0, errno == ENOSYS {
                        // Through the open folder, not its path: the file listed is the one read.
                        n = PathBytes.withCString("/proc/self/fd/\(directory)/" + entry.name) {
                            softcopy_lgetxattr($0, attribute.baseAddress!, buffer.baseAddress, UInt(buffer.count))
                        }
                    }
                    return n < 0 ? nil : Array(buffer[..<Int(n)])
                }
            }
        }
    }

    /// An extended attribute's name as a C string, made once for a whole listing.
    public struct AttributeName: Sendable {
        let cString: [CChar]
        public init(_ name: String) { cString = Array(name.utf8CString) }
    }

    /// The longest extended attribute `OpenEntry.attribute` reads.
    public static let attributeLimit = 1024

    /// The entries of one directory; nil if it does not exist (it may have just been removed).
    /// Without `statFiles`, entries whose kind readdir gives are not stat'ed, and only
    /// folders have a kind that matters (a walk for folders: no call per file).
    public static func list(_ absolutePath: String, statFiles: Bool = true) throws(SystemError) -> [Entry]? {
        var entries: [Entry] = []
        let found = try forEach(absolutePath, statFiles: statFiles) { open throws(SystemError) in entries.append(open.entry) }
        return found ? entries : nil
    }

    /// Calls `body` for each entry of one directory while it is open, taking the status of
    /// files with fstatat on the open directory (unless `statFiles` is false: then a file
    /// has no status and kind `.other` unless readdir says it is regular). False if the
    /// directory does not exist.
    public static func forEach(_ absolutePath: String, statFiles: Bool = true, _ body: (OpenEntry) throws(SystemError) -> Void) throws(SystemError) -> Bool {
        guard let dir = PathBytes.withCString(absolutePath, { opendir($0) }) else {
            let code = errno
            if code == ENOENT || code == ENOTDIR { return false }
            throw SystemError("opendir", path: absolutePath, errno: code)
        }
        try forEach(dir, displayPath: absolutePath, statFiles: statFiles, body)
        return true
    }

    /// The same for a folder already open (a destination folder reached beneath its
    /// root's descriptor: the entries are those of the folder the writes go to, whatever
    /// has been mounted on its path since). Takes the descriptor.
    public static func forEach(directory: consuming FileDescriptor, displayPath: String, statFiles: Bool = true,
                               _ body: (OpenEntry) throws(SystemError) -> Void) throws(SystemError) {
        let raw = directory.release()
        guard let dir = fdopendir(raw) else {
            let code = errno
            close(raw)
            throw SystemError("opendir", path: displayPath, errno: code)
        }
        try forEach(dir, displayPath: displayPath, statFiles: statFiles, body)
    }

    /// Reads an open folder to its end, then closes it.
    private static func forEach(_ dir: OpaquePointer, displayPath absolutePath: String, statFiles: Bool,
                                _ body: (OpenEntry) throws(SystemError) -> Void) throws(SystemError) {
        defer { closedir(dir) }
        let fd = dirfd(dir)
        while true {
            errno = 0
            guard let entry = readdir(dir) else {
                if errno != 0 { throw SystemError("readdir", path: absolutePath) }
                break
            }
            // The name goes to fstatat (and getxattrat) as readdir gave it: a String's C
            // string costs an allocation per call, two per file of a million-file listing.
            let cName = (UnsafeRawPointer(entry) + MemoryLayout<dirent>.offset(of: \dirent.d_name)!).assumingMemoryBound(to: CChar.self)
            let name = cName.withMemoryRebound(to: UInt8.self, capacity: 256) { PathBytes.string(from: UnsafeBufferPointer(start: $0, count: strlen(cName))) }
            if name == "." || name == ".." { continue }
            let listed: Entry
            let type = Int32(entry.pointee.d_type)
            if type == Int32(DT_DIR) {
                listed = Entry(name: name, status: nil, kind: .directory)
            } else if !statFiles, type != Int32(DT_UNKNOWN) {
                listed = Entry(name: name, status: nil, kind: type == Int32(DT_REG) ? .regular : .other)
            } else {
                // Regular files need their version; DT_UNKNOWN (some filesystems) needs a stat too.
                guard let status = try FileStatus.of(cName, in: fd, displayPath: absolutePath + "/" + name) else { continue }
                listed = Entry(name: name, status: status.kind == .directory ? nil : status, kind: status.kind)
            }
            try body(OpenEntry(entry: listed, directory: fd, cName: cName))
        }
    }
}
