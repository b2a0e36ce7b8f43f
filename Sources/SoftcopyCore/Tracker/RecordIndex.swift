/// The tracker's index from a path to its record: open addressing over 32-bit record
/// numbers, compared through the records' own paths. A `[RelativePath: Int]` keeps a
/// second copy of every path and a word per entry (about 50 bytes a file at a million
/// files); this keeps 4 to 8. Records are only ever added, so there are no tombstones.
struct RecordIndex: Sendable {
    private static let empty: Int32 = -1
    private var slots: [Int32] = []
    private var count = 0

    func find(_ path: RelativePath, in records: [ArchiveTracker.Record]) -> Int? {
        guard !slots.isEmpty else { return nil }
        let mask = slots.count - 1
        var slot = path.hashValue & mask
        while true {
            let index = slots[slot]
            if index == Self.empty { return nil }
            if records[Int(index)].path == path { return Int(index) }
            slot = (slot + 1) & mask
        }
    }

    /// Adds `records[index]`, which must not be indexed yet.
    mutating func insert(_ index: Int, in records: [ArchiveTracker.Record]) {
        precondition(index < Int(Int32.max), "more than 2^31 files in one archive")
        if (count + 1) * 10 > slots.count * 7 {
            grow(records)
        }
        place(Int32(index), hash: records[index].path.hashValue)
        count += 1
    }

    private mutating func place(_ index: Int32, hash: Int) {
        let mask = slots.count - 1
        var slot = hash & mask
        while slots[slot] != Self.empty {
            slot = (slot + 1) & mask
        }
        slots[slot] = index
    }

    private mutating func grow(_ records: [ArchiveTracker.Record]) {
        let old = slots
        slots = [Int32](repeating: Self.empty, count: max(64, old.count * 2))
        for index in old where index != Self.empty {
            place(index, hash: records[Int(index)].path.hashValue)
        }
    }
}
