import Glibc
import NIOCore
import NIOHTTP1
import NIOPosix

/// TLS cannot send a file region (sendfile bypasses the encryption), so under TLS a file
/// body is read into memory on a blocking thread before it is written. The bytes are
/// those of the very descriptor the responder opened (and hashed).
struct FileBodyReader: HTTPResponder {
    let inner: any HTTPResponder
    let pool: NIOThreadPool

    func bodyLimit(for request: HTTPRequest) -> Int? { inner.bodyLimit(for: request) }

    func respond(to request: HTTPRequest, on eventLoop: any EventLoop) -> EventLoopFuture<HTTPResponse> {
        inner.respond(to: request, on: eventLoop).flatMap { response in
            guard case .file(let handle, let offset, let length) = response.body else {
                return eventLoop.makeSucceededFuture(response)
            }
            return pool.runIfActive(eventLoop: eventLoop) {
                defer { try? handle.close() }
                var buffer = ByteBufferAllocator().buffer(capacity: length)
                let read = try handle.withUnsafeFileDescriptor { fd in
                    buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { out in
                        var done = 0
                        while done < length {
                            let n = pread(fd, out.baseAddress! + done, length - done, off_t(offset + done))
                            if n < 0, errno == EINTR { continue }
                            guard n > 0 else { break }
                            done += n
                        }
                        return done
                    }
                }
                guard read == length else {
                    return HTTPResponse.error(.internalServerError, "the file being sent became shorter (\(read) of \(length) bytes)")
                }
                var copy = response
                copy.body = .bytes(buffer)
                return copy
            }
        }
    }
}
