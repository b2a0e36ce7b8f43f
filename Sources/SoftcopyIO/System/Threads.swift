import CSoftcopyShims
import Glibc

/// Starts a named OS thread. Blocking work (file I/O, inotify reads, sigwait) runs on
/// threads of its own so it never occupies Swift's small concurrency pool.
///
/// `@unchecked Sendable`: it wraps a pthread handle, written once by `pthread_create`
/// before anyone else can see it.
public final class OSThread: @unchecked Sendable {
    private var thread = pthread_t()
    private let name: String

    private final class Box {
        let body: () -> Void
        let name: String
        init(_ name: String, _ body: @escaping () -> Void) {
            self.name = name
            self.body = body
        }
    }

    public init(name: String, _ body: @escaping @Sendable () -> Void) {
        self.name = name
        let box = Unmanaged.passRetained(Box(name, body)).toOpaque()
        let result = pthread_create(&thread, nil, { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            // Thread names are limited to 15 bytes by the kernel.
            softcopy_set_thread_name(String(box.name.prefix(15)))
            box.body()
            return nil
        }, box)
        precondition(result == 0, "pthread_create failed for \(name): \(result)")
    }

    public func join() {
        pthread_join(thread, nil)
    }

    /// For a thread nobody waits for: its resources go when it ends.
    public func detach() {
        pthread_detach(thread)
    }

    /// True on the thread itself (which must not join itself).
    public var isCurrent: Bool {
        pthread_equal(pthread_self(), thread) != 0
    }
}
