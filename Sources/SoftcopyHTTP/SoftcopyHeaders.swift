/// Header names of softcopy's HTTP API (see docs/http-api.md).
public enum SoftcopyHeaders {
    /// The source version a chunk's bytes were read from: `inode:size:mtime_ns:ctime_ns`.
    public static let version = "X-Softcopy-Version"
    /// XXH3-128 of the body, 32 hex digits.
    public static let checksum = "X-Softcopy-Checksum"
    /// The source file's permission bits, octal.
    public static let mode = "X-Softcopy-Mode"
    /// Why a chunk could not be served: `vanished`, `changed`, `stale-lease`.
    public static let reason = "X-Softcopy-Reason"
    /// An agent's request: it decodes `zstd` (`WireEncoding`).
    public static let acceptEncoding = "X-Softcopy-Accept-Encoding"
    /// An agent's request: its link's rate as it measured it (`LinkMeter`), bytes per second.
    public static let linkRate = "X-Softcopy-Link-Rate"
    /// A chunk's answer: how its body is compressed (`zstd;shuffle=2`); absent: as it is.
    public static let encoding = "X-Softcopy-Encoding"
}
