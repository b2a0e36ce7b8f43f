import Glibc
import Testing
import SoftcopyCore
import SoftcopyIO
import SoftcopyTesting

@Suite("Chunk writer: direct writes land whole, padded and cut back, around the page cache", .serialized)
struct ChunkWriterTests {
    /// Four aligned blocks, so a few kilobytes already cross the buffer's end.
    static let capacity = 4 * ChunkWriter.alignment
    /// Around the alignment and the buffer's length, and several buffers with a tail.
    static let lengths = [1, 4095, 4096, 4097, capacity - 1, capacity, capacity + 1, 3 * capacity + 1234]

    enum Way: String, CaseIterable { case append, fill }

    /// Writes `bytes` as `path` through `writer`: appended in uneven pieces, or filled by
    /// reads that return less than the free space (as a socket or a short read would).
    func write(_ bytes: [UInt8], as path: String, in tree: DestinationTree, direct: Bool, way: Way,
               writer: ChunkWriter) throws -> (isDirect: Bool, length: UInt64, landed: (Checksum, UInt64)) {
        let pending = try tree.beginWrite(RelativePath(validating: path), direct: direct)
        writer.begin(pending)
        let pieces = [1, 999, 5000, 4096, 12_288]
        var offset = 0, turn = 0
        while offset < bytes.count {
            let piece = min(pieces[turn % pieces.count], bytes.count - offset)
            turn += 1
            switch way {
            case .append:
                try bytes[offset..<(offset + piece)].withUnsafeBytes { try writer.append($0) }
                offset += piece
            case .fill:
                offset += try writer.fill { free in
                    let n = min(piece, free.count)
                    bytes[offset..<(offset + n)].withUnsafeBytes { free.copyMemory(from: $0) }
                    return n
                }
            }
        }
        let length = try writer.finish()
        try pending.settle(mode: 0o644, modificationTime: nil, size: length)
        let landed = try pending.checksumOfWrittenBytes(buffer: writer.buffer, length: UInt64(bytes.count))
        let isDirect = pending.isDirect
        _ = try pending.commit(syncDirectory: true)
        return (isDirect, length, landed)
    }

    @Test("a direct file holds exactly its bytes, is read back from the disk, and leaves nothing in the page cache",
          arguments: lengths, Way.allCases)
    func direct(length: Int, way: Way) throws {
        let dir = TestDirectory("chunk-writer")
        let tree = try DestinationTree(root: dir.appending("root"), create: true)
        let writer = ChunkWriter(capacity: Self.capacity)
        let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
        let result = try write(bytes, as: "a/chunk", in: tree, direct: true, way: way, writer: writer)
        // /tmp's filesystem takes O_DIRECT; a silent fallback would fail here and below.
        #expect(result.isDirect)
        #expect(result.length == UInt64(length))
        #expect(result.landed.0 == XXH3Hasher.checksum(bytes) && result.landed.1 == UInt64(length))
        let cached = try PageCache.residentPages(of: dir.appending("root/a/chunk"))
        #expect(cached.resident == 0, "\(cached.resident) of \(cached.total) pages in the cache after a direct write and read-back")
        #expect(try FileStatus.of(dir.appending("root/a/chunk"))?.version.size == UInt64(length), "the padding was not cut back")
        #expect(try readSmallFile(dir.appending("root/a/chunk"), limit: Int.max) == bytes)
    }

    @Test("without direct, the same bytes land through the page cache", arguments: Way.allCases)
    func buffered(way: Way) throws {
        let dir = TestDirectory("chunk-writer-buffered")
        let tree = try DestinationTree(root: dir.appending("root"), create: true)
        let writer = ChunkWriter(capacity: Self.capacity)
        let bytes = (0..<(3 * Self.capacity + 1234)).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        let result = try write(bytes, as: "chunk", in: tree, direct: false, way: way, writer: writer)
        #expect(!result.isDirect)
        #expect(result.length == UInt64(bytes.count))
        #expect(result.landed.0 == XXH3Hasher.checksum(bytes))
        #expect(try PageCache.residentPages(of: dir.appending("root/chunk")).resident > 0)
        #expect(try readSmallFile(dir.appending("root/chunk"), limit: Int.max) == bytes)
    }

    @Test("one writer serves file after file: nothing of one file's tail reaches the next")
    func reuse() throws {
        let dir = TestDirectory("chunk-writer-reuse")
        let tree = try DestinationTree(root: dir.appending("root"), create: true)
        let writer = ChunkWriter(capacity: Self.capacity)
        let first = [UInt8](repeating: 0xAB, count: Self.capacity + 100)
        let second = [UInt8](repeating: 0x01, count: 50)
        _ = try write(first, as: "one", in: tree, direct: true, way: .append, writer: writer)
        _ = try write(second, as: "two", in: tree, direct: true, way: .fill, writer: writer)
        #expect(try readSmallFile(dir.appending("root/one"), limit: Int.max) == first)
        #expect(try readSmallFile(dir.appending("root/two"), limit: Int.max) == second)
    }
}

extension ChunkWriterTests {
    @Test("a direct write the filesystem refuses (EINVAL) goes on through the page cache, and the file is whole")
    func refusedDirectWrite() throws {
        try Tools.requireRealParts()
        let dir = TestDirectory("chunk-writer-refused")
        defer { withExtendedLifetime(dir) {} }  // runs last: the folder goes only after the unmount
        // A device of 4096-byte sectors refuses direct writes of 512-byte multiples.
        let image = dir.appending("fs.img"), mountpoint = dir.appending("fs")
        _ = mkdir(mountpoint, 0o755)
        let fd = open(image, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        #expect(fd >= 0 && ftruncate(fd, 64 << 20) == 0)
        close(fd)
        let attached = try ChildProcess.run(["/usr/sbin/losetup", "--find", "--show", "--sector-size", "4096", image], timeout: .seconds(20))
        try #require(attached.code == 0, "losetup: \(attached.stderr)")
        let device = String(attached.stdout.filter { !$0.isWhitespace })
        defer { _ = try? ChildProcess.run(["/usr/sbin/losetup", "--detach", device], timeout: .seconds(20)) }
        let made = try ChildProcess.run(["/usr/sbin/mkfs.ext4", "-q", "-F", device], timeout: .seconds(60))
        try #require(made.code == 0, "mkfs.ext4: \(made.stderr)")
        let mounted = try ChildProcess.run(["/bin/mount", device, mountpoint], timeout: .seconds(20))
        try #require(mounted.code == 0, "mount: \(mounted.stderr)")
        defer { _ = try? ChildProcess.run(["/bin/umount", mountpoint], timeout: .seconds(20)) }

        let tree = try DestinationTree(root: mountpoint + "/root", create: true)
        let writer = ChunkWriter(capacity: Self.capacity, padding: 512)
        for (way, length) in [(Way.append, Self.capacity + 700), (Way.fill, 2 * Self.capacity), (Way.fill, 700)] {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ length) }
            let result = try write(bytes, as: "c/\(length)", in: tree, direct: true, way: way, writer: writer)
            #expect(result.isDirect, "opened with O_DIRECT")
            #expect(result.length == UInt64(length))
            #expect(result.landed.0 == XXH3Hasher.checksum(bytes) && result.landed.1 == UInt64(length))
            let path = mountpoint + "/root/c/\(length)"
            #expect(try FileStatus.of(path)?.version.size == UInt64(length))
            // Whole 4096-byte buffers go direct and leave nothing cached. A tail padded to 512
            // is refused; it, and the read-back after it, go through the cache.
            let cached = try PageCache.residentPages(of: path)
            #expect(length % 4096 == 0 ? cached.resident == 0 : cached.resident > 0, "\(cached.resident) of \(cached.total) pages cached")
            #expect(try readSmallFile(path, limit: Int.max) == bytes)
        }
    }
}
