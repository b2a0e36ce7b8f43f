import Glibc

/// Turns signals into calls on a thread of its own. `blockInThisThread` must run before
/// any other thread starts, so every thread inherits the mask and the signals are taken
/// only by `sigwait` here, never by an arbitrary thread in the middle of a write.
public final class SignalWatcher: Sendable {
    public static let handled: [Int32] = [SIGINT, SIGTERM, SIGUSR1, SIGHUP]

    public static func blockInThisThread() {
        var set = sigset_t()
        sigemptyset(&set)
        for s in handled { sigaddset(&set, s) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    private let thread: OSThread

    /// Calls `handler` with each signal as it arrives, until the process exits.
    public init(_ handler: @escaping @Sendable (Int32) -> Void) {
        thread = OSThread(name: "sc-signals") {
            var set = sigset_t()
            sigemptyset(&set)
            for s in SignalWatcher.handled { sigaddset(&set, s) }
            while true {
                var signal: Int32 = 0
                if sigwait(&set, &signal) == 0 {
                    handler(signal)
                }
            }
        }
    }
}
