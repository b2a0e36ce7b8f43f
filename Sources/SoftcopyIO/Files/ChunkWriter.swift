import CSoftcopyShims
import Glibc

/// Writes one file at a time, in order, through a page-aligned buffer that a worker owns
/// and reuses. A file opened with O_DIRECT (`PendingFile.isDirect`) goes from this buffer
/// straight to the device in aligned pieces: the kernel copies nothing into the page
/// cache and has nothing to write back. That copy, into freshly allocated pages, was the
/// largest part of a copy's CPU, and terabytes of chunks written through the cache would
/// push the acquisition's own pages out of it and count against the dirty limits that
/// throttle every writer on the machine. The last piece is padded to the alignment and
/// the file then truncated to its length. Where the filesystem refuses an aligned direct
/// write (EINVAL), the rest of that file goes through the page cache. Any other file is
/// written straight through, as `PendingFile.write` does.
public final class ChunkWriter {
    /// The alignment of direct IO's memory, offsets and lengths: 4096 serves devices with
    /// 512- and 4096-byte logical blocks.
    public static let alignment = 4096
    /// Smaller files go through the page cache: their cost is in metadata, not bytes, and
    /// a batch's writeback of many small files is better left to one `syncfs`.
    public static let directMinimum: UInt64 = 256 << 10

    /// Also for reads and read-backs between files; a multiple of `alignment` long.
    public let buffer: UnsafeMutableRawBufferPointer
    /// What the last piece is padded to (tests choose less, to see a refusal handled).
    private let padding: Int
    private var fd: Int32 = -1
    private var path = ""
    private var direct = false
    /// Bytes at the start of `buffer` not yet written (direct files only).
    private var filled = 0
    /// Where `buffer`'s first byte goes in the file.
    private var offset: Int64 = 0

    public init(capacity: Int, padding: Int = alignment) {
        precondition(capacity > 0 && capacity % Self.alignment == 0, "a ChunkWriter's buffer is a whole number of aligned blocks")
        precondition(padding > 0 && Self.alignment % padding == 0, "the padding divides the alignment")
        buffer = .allocate(byteCount: capacity, alignment: Self.alignment)
        self.padding = padding
    }

    deinit {
        buffer.deallocate()
    }

    /// Whether a file of `size` bytes should be opened for direct writes, when allowed.
    public static func wantsDirect(size: UInt64, allowed: Bool) -> Bool {
        allowed && size >= directMinimum
    }

    /// Starts on `file`, which must stay open until `finish`.
    public func begin(_ file: borrowing PendingFile) {
        fd = file.rawDescriptor
        path = file.displayPath
        direct = file.isDirect
        filled = 0
        offset = 0
    }

    /// Lets `read` put bytes in the buffer's free space, and writes them (a direct file's
    /// once the buffer is full, or at `finish`). Returns how many `read` put there.
    public func fill(_ read: (UnsafeMutableRawBufferPointer) throws(SystemError) -> Int) throws(SystemError) -> Int {
        let n = try read(UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]))
        guard n > 0 else { return 0 }
        filled += n
        if !direct || filled == buffer.count { try flush() }
        return n
    }

    /// Writes `bytes` (a direct file's are gathered in the buffer first).
    public func append(_ bytes: UnsafeRawBufferPointer) throws(SystemError) {
        guard direct else {
            try FileDescriptor.writeAll(fd, bytes, at: offset, path: path)
            offset += Int64(bytes.count)
            return
        }
        var rest = bytes
        while !rest.isEmpty {
            let n = min(rest.count, buffer.count - filled)
            UnsafeMutableRawBufferPointer(rebasing: buffer[filled..<(filled + n)]).copyMemory(from: UnsafeRawBufferPointer(rebasing: rest[..<n]))
            filled += n
            rest = UnsafeRawBufferPointer(rebasing: rest[n...])
            if filled == buffer.count { try flush() }
        }
    }

    /// Writes whatever is still gathered; returns the file's length.
    @discardableResult
    public func finish() throws(SystemError) -> UInt64 {
        if filled > 0 { try flush() }
        return UInt64(offset)
    }

    /// Writes the gathered bytes at `offset`. Only the file's last piece can be short of
    /// the alignment: it is padded with zeros, and the file cut back to its length.
    private func flush() throws(SystemError) {
        defer { filled = 0 }
        if direct {
            let padded = (filled + padding - 1) / padding * padding
            if padded > filled {
                UnsafeMutableRawBufferPointer(rebasing: buffer[filled..<padded]).initializeMemory(as: UInt8.self, repeating: 0)
            }
            do throws(SystemError) {
                try FileDescriptor.writeAll(fd, UnsafeRawBufferPointer(rebasing: buffer[..<padded]), at: offset, path: path)
                try cutBack(padded: padded)
                offset += Int64(filled)
                return
            } catch where error.errno == EINVAL {
                // This filesystem wants another alignment: this piece again, and the rest of
                // the file, through the page cache.
                guard softcopy_clear_direct(fd) == 0 else { throw SystemError("fcntl", path: path) }
                direct = false
                // It may have written some of the padding before it stopped.
                try cutBack(padded: padded)
            }
        }
        try FileDescriptor.writeAll(fd, UnsafeRawBufferPointer(rebasing: buffer[..<filled]), at: offset, path: path)
        offset += Int64(filled)
    }

    /// Cuts the file to the gathered bytes' end where the padding went past it (a file
    /// still short of it is lengthened, and the bytes written over the zeros).
    private func cutBack(padded: Int) throws(SystemError) {
        if padded > filled, ftruncate(fd, off_t(offset) + off_t(filled)) != 0 {
            throw SystemError("truncate", path: path)
        }
    }
}
