/// The checksum lists written beside the manifest: XXH3-128 always (softcopy's own
/// checksum), SHA-256 and MD5 where `checksums:` asks (what BagIt and Globus users check
/// with), each in the format its coreutils-style tool reads with `-c`.
public enum ChecksumAlgorithm: String, Sendable, CaseIterable, Hashable, Comparable {
    case xxh128
    case sha256
    case md5

    /// The tool that checks the list (`xxh128sum -c`, `sha256sum -c`, `md5sum -c`).
    public var tool: String { rawValue + "sum" }

    /// Hex digits in one checksum.
    public var hexDigits: Int {
        switch self {
        case .xxh128, .md5: 32
        case .sha256: 64
        }
    }

    /// Where the list is, relative to the destination root.
    public var listPath: RelativePath {
        RelativePath(unchecked: ZarrNaming.stateDirectoryName + "/" + rawValue + "sums")
    }

    public static func < (a: ChecksumAlgorithm, b: ChecksumAlgorithm) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}
