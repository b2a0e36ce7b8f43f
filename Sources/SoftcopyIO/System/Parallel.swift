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

    /// `body` over `0..<count` cut into `slices` contiguous ranges, on all cores (one range
    /// when there are fewer than `minimum` items, not worth the threads): the ranges'
    /// results, in order.
    public static func mapRanges<T: Sendable>(_ count: Int, slices: Int = 8, minimum: Int, _ body: @Sendable (Range<Int>) -> T) -> [T] {
        let pieces = count < minimum ? 1 : slices
        let step = (count + pieces - 1) / pieces
        return map(pieces) { i throws(Never) in body(min(i * step, count)..<min((i + 1) * step, count)) }.map { $0.get() }
    }
}
