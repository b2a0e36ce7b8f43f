import SoftcopyIO

/// A fixed number of batches that may be under way at once, shared by the local copies of
/// several jobs in one coordinator (`nprocs` for all of them together), taken in the order
/// asked: a job with many files cannot starve one that just started. A slot is taken
/// once a batch is leased (never while a worker waits for work) and given back when the
/// batch is reported, so no job holds a slot while it has nothing to copy.
package final class TransferSlots: Sendable {
    private struct State {
        var free: Int
        var nextTicket: UInt64 = 0
        var serving: UInt64 = 0
    }

    private let state: ConditionLock<State>
    package let capacity: Int

    package init(capacity: Int) {
        self.capacity = max(1, capacity)
        state = ConditionLock(State(free: max(1, capacity)))
    }

    /// Blocks until a slot is free and every earlier asker has had theirs.
    package func acquire() {
        let ticket = state.withLock { s -> UInt64 in
            defer { s.nextTicket &+= 1 }
            return s.nextTicket
        }
        state.waitFor { s -> ConditionLock<State>.Attempt<Void> in
            guard s.serving == ticket, s.free > 0 else { return .wait(until: nil) }
            s.free -= 1
            s.serving &+= 1
            return .done(())
        }
        state.broadcast()
    }

    /// Askers not yet served.
    package var waiting: Int { state.withLock { Int($0.nextTicket &- $0.serving) } }

    package func release() {
        state.withLock { $0.free += 1 }
        state.broadcast()
    }
}
