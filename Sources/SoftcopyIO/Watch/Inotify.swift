import Glibc
import SoftcopyCore

/// A thin wrapper over one inotify instance: add and remove watches, and wait for a batch
/// of events (or a wake-up from another thread, so the watcher thread can be stopped).
final class Inotify {
    struct Event {
        var watch: Int32
        var mask: UInt32
        var cookie: UInt32
        var name: String
    }

    let descriptor: Int32
    /// Written by another thread to end a `waitForEvents` early.
    private let wakePipe: WakePipe
    private var buffer = [UInt8](repeating: 0, count: 256 * 1024)

    init(wakePipe: WakePipe) throws(SystemError) {
        descriptor = try syscallRetrying("inotify_init1") { inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC)) }
        self.wakePipe = wakePipe
    }

    deinit {
        close(descriptor)
    }

    func addWatch(_ path: String, mask: UInt32) throws(SystemError) -> Int32 {
        try syscallRetrying("inotify_add_watch", path: path) { PathBytes.withCString(path) { inotify_add_watch(descriptor, $0, mask) } }
    }

    func removeWatch(_ watch: Int32) {
        _ = inotify_rm_watch(descriptor, watch)
    }


    /// Waits up to `timeoutMilliseconds` (-1 forever) and returns the events read; an
    /// empty array after a wake-up or time-out.
    func waitForEvents(timeoutMilliseconds: Int32) throws(SystemError) -> [Event] {
        var fds = [pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0), pollfd(fd: wakePipe.readEnd, events: Int16(POLLIN), revents: 0)]
        let ready = poll(&fds, 2, timeoutMilliseconds)
        if ready < 0 {
            if errno == EINTR { return [] }
            throw SystemError("poll")
        }
        if fds[1].revents != 0 { wakePipe.drain() }
        guard fds[0].revents != 0 else { return [] }
        let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        if count < 0 {
            if errno == EAGAIN || errno == EINTR { return [] }
            throw SystemError("read inotify")
        }
        return Self.parse(buffer, count: count)
    }

    /// Splits the kernel's buffer of `struct inotify_event` records.
    static func parse(_ bytes: [UInt8], count: Int) -> [Event] {
        var events: [Event] = []
        var offset = 0
        let header = MemoryLayout<inotify_event>.size
        bytes.withUnsafeBytes { raw in
            while offset + header <= count {
                let wd = raw.loadUnaligned(fromByteOffset: offset, as: Int32.self)
                let mask = raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
                let cookie = raw.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self)
                let length = Int(raw.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
                let nameBytes = raw[(offset + header)..<min(offset + header + length, count)]
                let name = Array(nameBytes.prefix { $0 != 0 }).withUnsafeBufferPointer { PathBytes.string(from: $0) }
                events.append(Event(watch: wd, mask: mask, cookie: cookie, name: name))
                offset += header + length
            }
        }
        return events
    }
}
