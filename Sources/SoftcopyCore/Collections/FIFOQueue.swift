/// A first-in first-out queue on a growable ring buffer: O(1) push and pop, no shifting.
public struct FIFOQueue<Element: Sendable>: Sendable {
    // Not [Element?]: an optional Int takes 16 bytes a slot, and the tracker queues every
    // file of an archive. A popped slot keeps its stale value until it is reused, which
    // suits the plain values (record numbers) queued here.
    private var storage: [Element] = []
    private var head = 0
    public private(set) var count = 0

    public init() {}

    public var isEmpty: Bool { count == 0 }

    public mutating func push(_ element: Element) {
        if count == storage.count { grow(filler: element) }
        storage[(head + count) % storage.count] = element
        count += 1
    }

    /// Puts an element back at the head (one taken out but not used this time).
    public mutating func pushFront(_ element: Element) {
        if count == storage.count { grow(filler: element) }
        head = (head - 1 + storage.count) % storage.count
        storage[head] = element
        count += 1
    }

    public mutating func pop() -> Element? {
        guard count > 0 else { return nil }
        let element = storage[head]
        head = (head + 1) % storage.count
        count -= 1
        return element
    }

    /// The queued elements, oldest first.
    public func forEach(_ body: (Element) -> Void) {
        for i in 0..<count { body(storage[(head + i) % storage.count]) }
    }

    private mutating func grow(filler: Element) {
        let newCapacity = max(16, storage.count * 2)
        var grown: [Element] = []
        grown.reserveCapacity(newCapacity)
        for i in 0..<count {
            grown.append(storage[(head + i) % storage.count])
        }
        while grown.count < newCapacity { grown.append(filler) }
        storage = grown
        head = 0
    }
}
