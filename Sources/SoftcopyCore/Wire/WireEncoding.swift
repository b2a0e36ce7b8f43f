/// How one chunk's bytes travel: zstd, after a byte shuffle for arrays of multi-byte
/// elements. Said in the `X-Softcopy-Encoding` header (and a bundle frame's `encoding`)
/// as `zstd` or `zstd;shuffle=N`; a chunk without it travels as it is.
///
/// The shuffle works on blocks of `blockSize` bytes of the uncompressed file, each on
/// its own, so the agent can undo it block by block as the stream arrives.
public struct WireEncoding: Sendable, Hashable, CustomStringConvertible {
    /// The element size the bytes are shuffled by; 1: not shuffled.
    public var shuffle: Int

    public static let blockSize = 1 << 20
    /// zstd's fastest regular level: on shuffled 16-bit images about 700 MB/s of one core
    /// here, decompressed at 1.5 GB/s; higher levels gain little on camera noise.
    public static let level: Int32 = 1
    /// The largest element size shuffled (complex128); a larger one is not shuffled.
    public static let maximumShuffle = 16

    public init(shuffle: Int) {
        self.shuffle = (1...Self.maximumShuffle).contains(shuffle) ? shuffle : 1
    }

    public var description: String { shuffle > 1 ? "zstd;shuffle=\(shuffle)" : "zstd" }

    /// The header's value; nil for anything this version cannot decode.
    public init?(header: String) {
        let parts = header.split(separator: ";").map { $0.trimmingCharacters(in: " ") }
        guard parts.first == "zstd" else { return nil }
        var shuffle = 1
        for part in parts.dropFirst() {
            guard part.hasPrefix("shuffle="), let n = Int(part.dropFirst("shuffle=".count)), (1...Self.maximumShuffle).contains(n) else { return nil }
            shuffle = n
        }
        self.init(shuffle: shuffle)
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: Character) -> Substring {
        var s = self
        while s.first == set { s = s.dropFirst() }
        while s.last == set { s = s.dropLast() }
        return s
    }
}
