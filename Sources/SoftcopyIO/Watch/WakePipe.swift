import Glibc
import SoftcopyCore

/// A pipe that one thread writes a byte to so that another, blocked in `poll` on its read
/// end, wakes up: `stop` wakes the watcher thread out of its wait for inotify events.
/// Sendable: its two descriptors are fixed at init and closed at deinit.
final class WakePipe: Sendable {
    let readEnd: Int32
    private let writeEnd: Int32

    init() throws(SystemError) {
        var fds: [Int32] = [0, 0]
        _ = try syscallRetrying("pipe") { pipe(&fds) }
        for fd in fds {
            _ = fcntl(fd, F_SETFL, O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        readEnd = fds[0]
        writeEnd = fds[1]
    }

    deinit {
        close(readEnd)
        close(writeEnd)
    }

    func wake() {
        var byte: UInt8 = 1
        _ = write(writeEnd, &byte, 1)
    }

    /// Empties the pipe after a wake-up was seen.
    func drain() {
        var bytes = [UInt8](repeating: 0, count: 64)
        while read(readEnd, &bytes, bytes.count) > 0 {}
    }
}
