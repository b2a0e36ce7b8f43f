import SoftcopyIO

/// One writer at a time per destination file, across the agent's transfer threads: the
/// check "is what is there newer than what I bring?" and the rename happen together.
final class KeyLocks: @unchecked Sendable {
    private let lock = ConditionLock()
    private var held: Set<String> = []

    func acquire(_ key: String) {
        lock.withLock {
            while held.contains(key) { lock.wait(until: nil) }
            held.insert(key)
        }
    }

    func release(_ key: String) {
        lock.withLock {
            held.remove(key)
            lock.broadcast()
        }
    }
}
