import NIOCore
import Synchronization
import SoftcopyCore
import SoftcopyHTTP
import SoftcopyIO

/// Lease requests held open while nothing is ready (long-poll). They are answered as soon
/// as the engine reports a change that may have made work ready, and on a short tick for
/// work that becomes ready by time alone (quiet periods, backoff, expired leases); at
/// their deadline they get an empty grant. Agents never spin, and a chunk that becomes
/// ready is leased within one wake-up.
final class LeaseWaiters: Sendable {
    struct Waiter: Sendable {
        var request: LeaseRequest
        /// When the asking agent was attached as the request came: a request held across a
        /// restart of that agent (its connection is gone) must not take work.
        var attachment: MonotonicInstant?
        var promise: EventLoopPromise<HTTPResponse>
        var deadline: MonotonicInstant
    }

    private let waiters = Mutex<[Waiter]>([])
    /// One service pass at a time; the engine's lock is taken inside it, never around it.
    private let serviceLock = Mutex(())
    private let scheduled = Atomic(false)
    private let eventLoop: any EventLoop
    private let grant: @Sendable (LeaseRequest, MonotonicInstant?) -> HTTPResponse?

    /// `grant` returns a response if it leased something (or the job is over), else nil.
    init(eventLoop: any EventLoop, grant: @escaping @Sendable (LeaseRequest, MonotonicInstant?) -> HTTPResponse?) {
        self.eventLoop = eventLoop
        self.grant = grant
        eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(50), delay: .milliseconds(50)) { [weak self] _ in
            self?.service(now: Clock.now())
        }
    }

    func add(_ request: LeaseRequest, attachment: MonotonicInstant?, promise: EventLoopPromise<HTTPResponse>, deadline: MonotonicInstant) {
        waiters.withLock { $0.append(Waiter(request: request, attachment: attachment, promise: promise, deadline: deadline)) }
        wake()
    }

    /// Something changed: try the waiters soon, coalescing bursts of changes into one pass.
    func wake() {
        guard !scheduled.exchange(true, ordering: .acquiringAndReleasing) else { return }
        eventLoop.execute { [self] in
            scheduled.store(false, ordering: .releasing)
            service(now: Clock.now())
        }
    }

    private func service(now: MonotonicInstant) {
        serviceLock.withLock { _ in
            let pending = waiters.withLock { w -> [Waiter] in
                defer { w.removeAll() }
                return w
            }
            guard !pending.isEmpty else { return }
            var keep: [Waiter] = []
            for waiter in pending {
                if let response = grant(waiter.request, waiter.attachment) {
                    waiter.promise.succeed(response)
                } else if now >= waiter.deadline {
                    waiter.promise.succeed(.json(LeaseGrant(items: [], finished: false).json))
                } else {
                    keep.append(waiter)
                }
            }
            if !keep.isEmpty { waiters.withLock { $0.append(contentsOf: keep) } }
        }
    }
}
