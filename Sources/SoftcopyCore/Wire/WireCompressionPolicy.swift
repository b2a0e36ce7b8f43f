/// Whether one chunk goes compressed to an agent: a pure decision, made by the
/// coordinator per chunk from what the agent says of its link and what the array's
/// metadata says of its chunks.
///
/// `auto` compresses a chunk when all of these hold:
/// - the agent accepts zstd and has not measured its link (`LinkMeter`) at `slowLink` or
///   faster: above it, compressing on the acquisition PC would cost more time than it
///   saves (zstd -1 on shuffled 16-bit images: about 700 MB/s of one core here), and the
///   CPU is the writer's first;
/// - the array's codecs leave its chunks raw (`ZarrArrayLayout.rawItemSize`): a chunk
///   zstd or blosc already compressed does not shrink again;
/// - the array's recent chunks did shrink (`CompressionGain`).
public enum WireCompressionPolicy {
    /// Links measured slower than this (bytes per second) get compressed chunks: 300 MB/s,
    /// 2.4 Gbit/s, so 1 GbE and 2.5 GbE links do, 10 GbE and loopback do not.
    public static let slowLink: Double = 300e6

    /// What the agent's request says, and what the coordinator knows of the chunk.
    public struct Request: Sendable, Hashable {
        public var accepts: Bool
        /// The agent's link, bytes per second, as measured; nil before it measured any.
        public var linkRate: Double?

        public init(accepts: Bool, linkRate: Double?) {
            self.accepts = accepts
            self.linkRate = linkRate
        }
    }

    /// The encoding for this chunk, or nil to send it as it is. `rawItemSize`: the
    /// element size when the array's chunks are raw, nil when they are compressed or
    /// not a known array's. `gain` is the array's record; a compressed chunk's sizes go
    /// back to it (`CompressionGain.record`).
    public static func encoding(mode: WireCompression, request: Request, rawItemSize: Int?, gain: inout CompressionGain) -> WireEncoding? {
        guard request.accepts else { return nil }
        switch mode {
        case .never:
            return nil
        case .always:
            return WireEncoding(shuffle: rawItemSize ?? 1)
        case .auto:
            // Before the agent measured its link, raw chunks go compressed: on a slow link
            // the first burst would otherwise queue raw (a 100 Mbit/s link then spent
            // seconds draining it), and on a fast one a few chunks cost little CPU.
            if let rate = request.linkRate, rate >= slowLink { return nil }
            guard let rawItemSize, gain.shouldTry() else { return nil }
            return WireEncoding(shuffle: rawItemSize)
        }
    }
}
