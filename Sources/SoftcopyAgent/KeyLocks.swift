import SoftcopyIO

/// One writer at a time per destination file, across the agent's transfer threads: the
/// check "is what is there newer than what I bring?" and the rename happen together.
package final class KeyLocks: Sendable {
    /// The keys held now.
    private let held = ConditionLock(Set<String>())

    package init() {}

    func acquire(_ key: String) {
        held.waitFor { keys in keys.insert(key).inserted ? .done(()) : .wait(until: nil) }
    }

    func release(_ key: String) {
        held.withLock { keys in _ = keys.remove(key) }
        held.broadcast()
    }
}
