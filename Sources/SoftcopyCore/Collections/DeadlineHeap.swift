/// A binary min-heap of (deadline, value): the next thing whose time comes.
public struct DeadlineHeap<Value: Sendable>: Sendable {
    private var items: [(deadline: MonotonicInstant, value: Value)] = []

    public init() {}

    public var isEmpty: Bool { items.isEmpty }
    public var count: Int { items.count }
    public var nextDeadline: MonotonicInstant? { items.first?.deadline }

    public mutating func push(_ deadline: MonotonicInstant, _ value: Value) {
        items.append((deadline, value))
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child].deadline < items[parent].deadline else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the earliest entry if its deadline is at or before `now`.
    public mutating func popDue(_ now: MonotonicInstant) -> (deadline: MonotonicInstant, value: Value)? {
        guard let first = items.first, first.deadline <= now else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < items.count, items[left].deadline < items[smallest].deadline { smallest = left }
                if right < items.count, items[right].deadline < items[smallest].deadline { smallest = right }
                if smallest == parent { break }
                items.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return first
    }
}
