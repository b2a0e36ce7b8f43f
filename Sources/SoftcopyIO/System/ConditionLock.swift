import Glibc
public import SoftcopyCore

/// A mutex with a condition variable, and the state it guards, for threads that must
/// block until something changes (copy workers, long-polls, key locks). Time-outs use
/// CLOCK_MONOTONIC, like the rest of softcopy.
///
/// `@unchecked Sendable` because it wraps pthread handles: `State` is reachable only
/// through `withLock` and `waitFor`, with the mutex held, so sharing it is safe.
public final class ConditionLock<State>: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let state = UnsafeMutablePointer<State>.allocate(capacity: 1)

    public init(_ initial: State) {
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
        state.initialize(to: initial)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        state.deinitialize(count: 1)
        state.deallocate()
        condition.deallocate()
        mutex.deallocate()
    }

    /// Runs `body` on the state with the lock held.
    public func withLock<T>(_ body: (inout State) throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&state.pointee)
    }

    /// Runs `body` with the lock held, for a lock that guards no state of its own (it may
    /// call `wait(until:)`).
    public func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// What a `waitFor` attempt found: the result, or that it must wait (until a
    /// `broadcast`, or `until` passes, whichever comes first).
    public enum Attempt<T> {
        case done(T)
        case wait(until: MonotonicInstant?)
    }

    /// Calls `attempt` on the state, with the lock held, until it is done, sleeping
    /// between calls as it asks. Each call is a fresh access to the state, so it sees
    /// what other threads changed while this one slept.
    public func waitFor<T>(_ attempt: (inout State) -> Attempt<T>) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while true {
            switch attempt(&state.pointee) {
            case .done(let value): return value
            case .wait(let deadline): wait(until: deadline)
            }
        }
    }

    /// Waits (the lock must be held) until signalled or `deadline` passes.
    public func wait(until deadline: MonotonicInstant?) {
        guard let deadline else {
            pthread_cond_wait(condition, mutex)
            return
        }
        var ts = timespec(tv_sec: Int(deadline.nanoseconds / 1_000_000_000), tv_nsec: Int(deadline.nanoseconds % 1_000_000_000))
        pthread_cond_timedwait(condition, mutex, &ts)
    }

    public func broadcast() {
        pthread_cond_broadcast(condition)
    }
}

extension ConditionLock where State == Void {
    /// A lock and condition that guard no state of their own.
    public convenience init() {
        self.init(())
    }
}
