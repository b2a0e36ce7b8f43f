import Glibc

/// An open file descriptor that closes itself exactly once. Not copyable, so ownership
/// is explicit and a descriptor can never be closed twice or leaked on an error path.
public struct FileDescriptor: ~Copyable {
    public let rawValue: Int32

    public init(owning rawValue: Int32) {
        self.rawValue = rawValue
    }

    deinit {
        _ = Glibc.close(rawValue)
    }

    /// Reads up to `count` bytes at `offset` into `buffer`; returns the bytes read (0 at end).
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64? = nil, path: String? = nil) throws(SystemError) -> Int {
        try syscallRetrying("read", path: path) {
            if let offset { return Glibc.pread(rawValue, buffer.baseAddress, buffer.count, off_t(offset)) }
            return Glibc.read(rawValue, buffer.baseAddress, buffer.count)
        }
    }

    /// Writes all of `buffer`, continuing after short writes.
    public func writeAll(_ buffer: UnsafeRawBufferPointer, path: String? = nil) throws(SystemError) {
        var done = 0
        while done < buffer.count {
            let rest = UnsafeRawBufferPointer(rebasing: buffer[done...])
            done += try syscallRetrying("write", path: path) { Glibc.write(rawValue, rest.baseAddress, rest.count) }
        }
    }

    public func status(path: String? = nil) throws(SystemError) -> FileStatus {
        var st = stat()
        _ = try syscallRetrying("fstat", path: path) { fstat(rawValue, &st) }
        return FileStatus(st)
    }

    public func sync(path: String? = nil) throws(SystemError) {
        _ = try syscallRetrying("fsync", path: path) { fsync(rawValue) }
    }
}
