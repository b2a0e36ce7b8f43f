/// What wire compression did in a run, for the metrics and the summary.
public struct WireTotals: Sendable, Hashable {
    /// Chunks sent compressed, their bytes at the source, and their bytes on the wire.
    public var chunks: UInt64 = 0
    public var rawBytes: UInt64 = 0
    public var wireBytes: UInt64 = 0

    public init() {}

    public mutating func add(raw: UInt64, wire: UInt64) {
        chunks += 1
        rawBytes += raw
        wireBytes += wire
    }

    /// Source bytes per wire byte of the compressed chunks (1 with none).
    public var ratio: Double { wireBytes > 0 ? Double(rawBytes) / Double(wireBytes) : 1 }
}
