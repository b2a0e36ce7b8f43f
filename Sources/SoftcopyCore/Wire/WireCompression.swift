/// `wire_compression:` when the coordinator compresses a chunk on its way to an agent.
/// The destination always holds the source's bytes: the agent decompresses, and the
/// checksum is of the uncompressed bytes.
public enum WireCompression: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Chunks the array's codecs leave uncompressed, while the agent's link is slower
    /// than compression (`WireCompressionPolicy`) and while the array's chunks compress.
    case auto
    /// Never: every byte goes as it is at the source.
    case never
    /// Every chunk to an agent that accepts it, whatever its codecs or link (for links
    /// known to be slow, and for tests).
    case always

    public var description: String { rawValue }

}
