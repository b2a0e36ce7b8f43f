import Glibc
import NIOCore
import NIOHTTP1
import Synchronization
import SoftcopyCore
import SoftcopyHTTP
import SoftcopyIO

/// Serves one leased chunk's bytes. On a blocking thread: open the file once, take its
/// version from that descriptor, hash it (XXH3-128) through a reused buffer, check it is
/// still that version for in-place writers, then hand the very same descriptor to NIO
/// to send with sendfile. The bytes sent are the bytes hashed: atomic writers never
/// change an inode once it has its real name, and an in-place change shows up as a
/// checksum mismatch at the agent, which never lets it land.
final class ChunkReader: Sendable {
    private let buffers = Mutex<[UnsafeMutableRawBufferPointerBox]>([])
    private let ioPriority: IOPriority
    private let rateLimiter: RateLimiter?
    static let bufferSize = 1 << 20

    init(ioPriority: IOPriority, maxRate: UInt64?) {
        self.ioPriority = ioPriority
        self.rateLimiter = maxRate.map { RateLimiter(bytesPerSecond: $0) }
    }

    func serve(sourceRoot: String, path: RelativePath, requireStableRead: Bool) -> HTTPResponse {
        _ = ioPriority.applyToCurrentThread()
        let display = sourceRoot + "/" + path.string
        let box = buffers.withLock { $0.popLast() } ?? UnsafeMutableRawBufferPointerBox(size: Self.bufferSize)
        defer { buffers.withLock { $0.append(box) } }
        do throws(SystemError) {
            guard let file = try SourceFile.open(display) else {
                return .error(.notFound, "\(path) is no longer at the source", headers: reason("vanished"))
            }
            let version = file.status.version
            let (checksum, length) = try file.descriptor.checksum(buffer: box.buffer, path: display)
            rateLimiter?.consume(length)
            let changed = requireStableRead ? try file.changedSinceOpen(checkPath: true) : false
            if length != version.size || changed {
                return .error(.conflict, "\(path) changed while it was read", headers: reason("changed"))
            }
            var headers = HTTPHeaders()
            headers.add(name: SoftcopyHeaders.version, value: version.token)
            headers.add(name: SoftcopyHeaders.checksum, value: checksum.hex)
            headers.add(name: SoftcopyHeaders.mode, value: String(file.status.mode & 0o777, radix: 8))
            headers.add(name: "content-type", value: "application/octet-stream")
            let fd = file.releaseDescriptor()
            return HTTPResponse(status: .ok, headers: headers,
                                body: .file(NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: fd), offset: 0, length: Int(length)))
        } catch {
            let status: HTTPResponseStatus = error.isTransient ? .serviceUnavailable : .forbidden
            return .error(status, "cannot read \(display): \(error)", headers: reason(error.isTransient ? "transient" : "unreadable"))
        }
    }

    private func reason(_ value: String) -> HTTPHeaders {
        HTTPHeaders([(SoftcopyHeaders.reason, value)])
    }
}

/// A reusable read buffer (a pointer is not Sendable; the pool hands each to one thread).
final class UnsafeMutableRawBufferPointerBox: @unchecked Sendable {
    let buffer: UnsafeMutableRawBufferPointer

    init(size: Int) {
        buffer = .allocate(byteCount: size, alignment: 4096)
    }

    deinit {
        buffer.deallocate()
    }
}
