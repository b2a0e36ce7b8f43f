import Glibc
import SoftcopyCore

/// A failed system call, with what was being done, to which path, and errno: the three
/// things an operator needs to act on it ("open /data/a.zarr/c/0: Permission denied").
public struct SystemError: Error, Sendable, Hashable, CustomStringConvertible {
    public var operation: String
    public var path: String?
    public var errno: Int32

    public init(_ operation: String, path: String? = nil, errno: Int32) {
        self.operation = operation
        self.path = path
        self.errno = errno
    }

    /// Captures the calling thread's current errno.
    public init(_ operation: String, path: String? = nil) {
        self.init(operation, path: path, errno: Glibc.errno)
    }

    public var reason: String {
        String(cString: strerror(errno))
    }

    public var description: String {
        if let path { return "\(operation) \(PathBytes.display(path)): \(reason)" }
        return "\(operation): \(reason)"
    }

    /// Errors that may go away by themselves: retry with backoff.
    public var isTransient: Bool {
        switch errno {
        case EAGAIN, EINTR, EBUSY, ENOSPC, EDQUOT, EIO, ETIMEDOUT, ENOMEM, EMFILE, ENFILE, ESTALE: true
        default: false
        }
    }
    public var isNotFound: Bool { errno == ENOENT || errno == ENOTDIR }

    /// The filesystem (or the user's quota on it) is full.
    public var isNoSpace: Bool { errno == ENOSPC || errno == EDQUOT }
}

/// The one place that calls into libc for descriptors: retries EINTR and turns -1 into a
/// SystemError naming the operation and path.
@inline(__always)
func syscallRetrying<T: FixedWidthInteger>(_ operation: String, path: String? = nil, _ body: () -> T) throws(SystemError) -> T {
    while true {
        let result = body()
        if result != -1 { return result }
        let code = errno
        if code == EINTR { continue }
        throw SystemError(operation, path: path, errno: code)
    }
}
