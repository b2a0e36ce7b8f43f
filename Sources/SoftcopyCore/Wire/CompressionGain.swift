/// How well an array's chunks compressed of late, so that `auto` stops spending CPU on
/// chunks that do not shrink (noise, an encrypted or already packed payload) and
/// notices when they start to again.
public struct CompressionGain: Sendable, Hashable {
    /// Compressed ÷ raw bytes, a running average over about the last 10 chunks.
    public private(set) var ratio: Double = 0
    /// Chunks asked about since the last one tried while the ratio was poor.
    private var skipped = 0

    /// A chunk that would save less than this share is not worth compressing.
    public static let worthwhile = 0.9
    /// While chunks do not shrink, one in this many is still tried.
    public static let probeEvery = 32

    public init() {}

    /// Whether to compress the next chunk.
    public mutating func shouldTry() -> Bool {
        guard ratio > Self.worthwhile else { return true }
        skipped += 1
        if skipped >= Self.probeEvery {
            skipped = 0
            return true
        }
        return false
    }

    /// A chunk of `raw` bytes went as `wire` bytes.
    public mutating func record(raw: UInt64, wire: UInt64) {
        guard raw > 0 else { return }
        let r = Double(wire) / Double(raw)
        ratio = ratio == 0 ? r : ratio * 0.9 + r * 0.1
    }
}
