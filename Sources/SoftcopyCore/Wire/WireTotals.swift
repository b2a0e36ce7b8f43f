/// What wire compression did in a run, for the metrics and the summary.
public struct WireTotals: Sendable, Hashable {
    /// Chunks sent compressed, their bytes at the source, and their bytes on the wire.
    public var chunks: UInt64 = 0
    public var rawBytes: UInt64 = 0
    public var wireBytes: UInt64 = 0

    public init() {}

    public mutating func add(raw: UInt64, wire: UInt64) {
        add(WireTotals(chunks: 1, rawBytes: raw, wireBytes: wire))
    }

    public mutating func add(_ other: WireTotals) {
        chunks += other.chunks
        rawBytes += other.rawBytes
        wireBytes += other.wireBytes
    }

    init(chunks: UInt64, rawBytes: UInt64, wireBytes: UInt64) {
        self.chunks = chunks
        self.rawBytes = rawBytes
        self.wireBytes = wireBytes
    }

    /// Source bytes per wire byte of the compressed chunks (1 with none).
    public var ratio: Double { wireBytes > 0 ? Double(rawBytes) / Double(wireBytes) : 1 }
}
