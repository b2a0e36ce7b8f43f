/// A first-in first-out queue on a growable ring buffer: O(1) push and pop, no shifting.
public struct FIFOQueue<Element: Sendable>: Sendable {
    private var storage: [Element?] = []
    private var head = 0
    public private(set) var count = 0

    public init() {}

    public var isEmpty: Bool { count == 0 }

    public mutating func push(_ element: Element) {
        if count == storage.count { grow() }
        storage[(head + count) % storage.count] = element
        count += 1
    }

    /// Puts an element back at the head (one taken out but not used this time).
    public mutating func pushFront(_ element: Element) {
        if count == storage.count { grow() }
        head = (head - 1 + storage.count) % storage.count
        storage[head] = element
        count += 1
    }

    public mutating func pop() -> Element? {
        guard count > 0 else { return nil }
        let element = storage[head]
        storage[head] = nil
        head = (head + 1) % storage.count
        count -= 1
        return element
    }

    private mutating func grow() {
        let newCapacity = max(16, storage.count * 2)
        var grown = [Element?](repeating: nil, count: newCapacity)
        for i in 0..<count {
            grown[i] = storage[(head + i) % storage.count]
        }
        storage = grown
        head = 0
    }
}
