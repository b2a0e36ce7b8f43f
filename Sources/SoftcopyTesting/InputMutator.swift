/// Deterministic fuzzing without libFuzzer: takes seed inputs and mutates them (bit flips,
/// interesting bytes, insertions, deletions, duplications, truncations, splices and
/// dictionary tokens) with a seeded generator, so every run of CI tries the same inputs
/// and any failure can be replayed from its seed.
public struct InputMutator {
    private var state: UInt64
    private let seeds: [[UInt8]]
    private let dictionary: [[UInt8]]

    static let interesting: [UInt8] = [0, 0xff, 0x7f, 0x80, 0x22, 0x5c, 0x2f, 0x2e, 0x3a, 0x7b, 0x7d, 0x5b, 0x5d, 0x2d, 0x0a, 0x0d, 0x20, 0x25, 0x23, 0x30, 0x39]

    public init(seed: UInt64, seeds: [String], dictionary: [String] = []) {
        state = seed
        self.seeds = seeds.map { Array($0.utf8) }
        self.dictionary = dictionary.map { Array($0.utf8) }
    }

    /// splitmix64.
    private mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    private mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }

    /// One input: a seed with 1 to 8 mutations.
    public mutating func input() -> [UInt8] {
        var bytes = seeds[below(seeds.count)]
        for _ in 0..<(1 + below(8)) { mutate(&bytes) }
        return bytes
    }

    private mutating func mutate(_ bytes: inout [UInt8]) {
        let at = below(bytes.count + 1)
        switch below(9) {
        case 0 where !bytes.isEmpty:
            bytes[min(at, bytes.count - 1)] ^= UInt8(1) << UInt8(below(8))
        case 1 where !bytes.isEmpty:
            bytes[min(at, bytes.count - 1)] = Self.interesting[below(Self.interesting.count)]
        case 2:
            bytes.insert(UInt8(truncatingIfNeeded: next()), at: at)
        case 3 where !bytes.isEmpty:
            let end = min(bytes.count, at + 1 + below(16))
            bytes.removeSubrange(min(at, bytes.count - 1)..<end)
        case 4 where !bytes.isEmpty:
            let start = min(at, bytes.count - 1)
            let piece = bytes[start..<min(bytes.count, start + 1 + below(32))]
            bytes.insert(contentsOf: Array(repeating: piece, count: 1 + below(4)).flatMap { $0 }, at: start)
        case 5:
            bytes.removeSubrange(at..<bytes.count)
        case 6:
            let other = seeds[below(seeds.count)]
            let from = below(other.count + 1)
            bytes.insert(contentsOf: other[from..<min(other.count, from + below(64))], at: at)
        case 7 where !dictionary.isEmpty:
            bytes.insert(contentsOf: dictionary[below(dictionary.count)], at: at)
        default:
            bytes.insert(Self.interesting[below(Self.interesting.count)], at: at)
        }
    }
}
