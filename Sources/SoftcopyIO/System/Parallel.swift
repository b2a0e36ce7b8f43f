import Dispatch

/// Work shared out over the cores (GCD's concurrentPerform): an agent's listing of a
/// million files is stat and getxattr calls, and then text, that the coordinator waits
/// for; the coordinator fetches several agents' listings side by side.
public enum Parallel {
    /// Runs `body` for 0..<count on all cores; the results in order.
    /// One iteration runs on the calling thread: a concurrentPerform nested inside another
    /// runs its iterations one after the other, so a single agent's listing fetched through
    /// one would be decoded on one core.
    public static func map<T: Sendable, E: Error>(_ count: Int, _ body: @Sendable (Int) throws(E) -> T) -> [Result<T, E>] {
        if count == 1 {
            do throws(E) { return [.success(try body(0))] } catch { return [.failure(error)] }
        }
        // Each iteration writes only its own slot, and concurrentPerform returns after all.
        nonisolated(unsafe) let slots = UnsafeMutableBufferPointer<Result<T, E>?>.allocate(capacity: count)
        slots.initialize(repeating: nil)
        defer { slots.deallocate() }
        withoutActuallyEscaping(body) { body in
            DispatchQueue.concurrentPerform(iterations: count) { i in
                do throws(E) { slots[i] = .success(try body(i)) } catch { slots[i] = .failure(error) }
            }
        }
        return slots.map { $0! }
    }
}
