import CSoftcopyShims
import Glibc
public import SoftcopyCore

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

    /// Gives up ownership: the caller closes the returned descriptor.
    public consuming func release() -> Int32 {
        let fd = rawValue
        discard self
        return fd
    }

    /// Reads up to `count` bytes at `offset` into `buffer`; returns the bytes read (0 at end).
    /// Up to `size` bytes from `offset`, read until the end of the file or `size`.
    public func readAll(upTo size: Int, at offset: Int64 = 0, path: String? = nil) throws(SystemError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        let failure: SystemError? = bytes.withUnsafeMutableBytes { all in
            while done < all.count {
                do throws(SystemError) {
                    let n = try read(into: UnsafeMutableRawBufferPointer(rebasing: all[done...]), at: offset + Int64(done), path: path)
                    if n == 0 { break }
                    done += n
                } catch {
                    return error
                }
            }
            return nil
        }
        if let failure { throw failure }
        return Array(bytes[..<done])
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64? = nil, path: String? = nil) throws(SystemError) -> Int {
        try syscallRetrying("read", path: path) {
            if let offset { return Glibc.pread(rawValue, buffer.baseAddress, buffer.count, off_t(offset)) }
            return Glibc.read(rawValue, buffer.baseAddress, buffer.count)
        }
    }

    /// Writes all of `buffer`, continuing after short writes.
    public func writeAll(_ buffer: UnsafeRawBufferPointer, path: String? = nil) throws(SystemError) {
        try Self.writeAll(rawValue, buffer, path: path)
    }

    /// The same on a descriptor owned elsewhere (for callbacks that cannot borrow the owner),
    /// at the file position or, with `offset`, from there on (pwrite).
    public static func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, at offset: Int64? = nil, path: String? = nil) throws(SystemError) {
        var done = 0
        while done < buffer.count {
            let rest = UnsafeRawBufferPointer(rebasing: buffer[done...])
            let n = try syscallRetrying("write", path: path) {
                if let offset { return Glibc.pwrite(fd, rest.baseAddress, rest.count, off_t(offset) + off_t(done)) }
                return Glibc.write(fd, rest.baseAddress, rest.count)
            }
            // No progress on a regular file would loop for ever: call it an IO error.
            guard n > 0 else { throw SystemError("write", path: path, errno: EIO) }
            done += n
        }
    }

    /// The same for an array or a String's `utf8`, through their own storage (a copy only
    /// for a sequence without contiguous storage). withContiguousStorageIfAvailable
    /// rethrows untyped errors, so the write's typed one comes out through a Result.
    public static func writeAll(_ fd: Int32, contentsOf bytes: some Sequence<UInt8>, path: String? = nil) throws(SystemError) {
        func write(_ buffer: UnsafeBufferPointer<UInt8>) -> Result<Void, SystemError> {
            Result { () throws(SystemError) in try writeAll(fd, UnsafeRawBufferPointer(buffer), path: path) }
        }
        try (bytes.withContiguousStorageIfAvailable(write) ?? Array(bytes).withUnsafeBufferPointer(write)).get()
    }

    /// XXH3-128 of the file's bytes from the start, up to `limit` of them (all without),
    /// and how many it hashed, read through `buffer`: the one loop behind checking where
    /// bytes landed, adopting files, and --verify-full. Each read asks for a whole number
    /// of `ChunkWriter.alignment` blocks (a descriptor opened with O_DIRECT takes no other), so an
    /// aligned buffer of such a length serves direct and buffered files alike.
    /// `also` are more hashers fed the same bytes (`checksums:`), `feed` one more reader
    /// of them (the wire compressor).
    public func checksum(buffer: UnsafeMutableRawBufferPointer, path: String? = nil, upTo limit: UInt64 = .max,
                         also: [DigestHasher] = [], feed: ((UnsafeRawBufferPointer) -> Void)? = nil) throws(SystemError) -> (checksum: Checksum, length: UInt64) {
        let hasher = XXH3Hasher()
        var offset: UInt64 = 0
        while offset < limit {
            let remaining = limit - offset
            let block = ChunkWriter.alignment
            let want = remaining >= UInt64(buffer.count) ? buffer.count : min(buffer.count, (Int(remaining) + block - 1) / block * block)
            let read = try read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[..<want]), at: Int64(offset), path: path)
            let n = min(read, Int(min(remaining, UInt64(Int.max))))
            if n == 0 { break }
            hasher.update(UnsafeRawBufferPointer(rebasing: buffer[..<n]))
            for extra in also { extra.update(UnsafeRawBufferPointer(rebasing: buffer[..<n])) }
            feed?(UnsafeRawBufferPointer(rebasing: buffer[..<n]))
            offset += UInt64(n)
        }
        return (hasher.digest(), offset)
    }

    public func status(path: String? = nil) throws(SystemError) -> FileStatus {
        var st = stat()
        _ = try syscallRetrying("fstat", path: path) { fstat(rawValue, &st) }
        return FileStatus(st)
    }

    /// Sets an extended attribute (softcopy keeps a file's source version and checksum
    /// in `user.softcopy`, so the record travels with the inode through the rename).
    public func setAttribute(_ name: String, _ value: [UInt8], path: String? = nil) throws(SystemError) {
        _ = try syscallRetrying("fsetxattr", path: path) {
            value.withUnsafeBytes { softcopy_fsetxattr(rawValue, name, $0.baseAddress, UInt($0.count)) }
        }
    }

    /// An extended attribute's value; nil if the file has none of that name (or the
    /// filesystem keeps none).
    public func attribute(_ name: String, limit: Int = 1024) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: limit)
        let n = buffer.withUnsafeMutableBytes { softcopy_fgetxattr(rawValue, name, $0.baseAddress, UInt($0.count)) }
        guard n >= 0 else { return nil }
        return Array(buffer[..<n])
    }

    public func sync(path: String? = nil) throws(SystemError) {
        _ = try syscallRetrying("fsync", path: path) { fsync(rawValue) }
    }
}
