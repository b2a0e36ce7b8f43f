/// What one metadata file says about the directory that holds it.
public enum ZarrNode: Sendable, Hashable {
    case group(zarrFormat: Int)
    case array(ZarrArrayLayout)
    /// `.zattrs` or `.zmetadata`: valid JSON, no structure of its own.
    case attributes
}
