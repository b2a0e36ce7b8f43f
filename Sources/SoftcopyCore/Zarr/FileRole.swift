/// What a file in a source archive is, judged from its name alone.
public enum FileRole: UInt8, Sendable, Hashable, CaseIterable {
    /// Chunks, shards, and any other file: copied as soon as they are ready.
    case data
    /// Zarr metadata: copied early so the destination opens, and again last at the end.
    case metadata
    /// A writer's temporary file (`.__lock`, `.partial`): never copied.
    case temporary
    /// The `complete` file at the archive root (softcopy's end marker): copied last of all.
    case endMarker
}

/// Zarr's file naming rules, as the writers actually follow them.
public enum ZarrNaming {
    /// v2: `.zarray`, `.zgroup`, `.zattrs`, `.zmetadata`; v3: `zarr.json`.
    public static let metadataNames: Set<Substring> = ["zarr.json", ".zarray", ".zgroup", ".zattrs", ".zmetadata"]

    /// Metadata that describes a node's structure (group or array), as opposed to attributes.
    public static let nodeMetadataNames: Set<Substring> = ["zarr.json", ".zarray", ".zgroup"]

    /// softcopy's convention: a file with this name in the source root ends the acquisition.
    public static let endMarkerName = "complete"

    /// tensorstore writes `KEY.__lock` (modes os, lockfile) or `KEY_<16hex>.__lock` (mode none);
    /// zarr-python >= 3.1.3 writes `<name>.<32hex>.partial`. Both are renamed over the real name.
    /// softcopy's own temp files (`.softcopy-tmp-…`) count too: a softcopy destination
    /// can be the source of a second hop.
    public static func isTemporary(name: some StringProtocol) -> Bool {
        name.hasSuffix(".__lock") || name.hasSuffix(".partial") || name.hasPrefix(".softcopy-tmp-")
    }

    /// softcopy's state folder at an archive root (journal, manifest): never copied.
    public static let stateDirectoryName = ".softcopy"

    public static func role(of path: RelativePath) -> FileRole {
        if path.isInside(RelativePath(unchecked: stateDirectoryName)) { return .temporary }
        let name = path.name
        if isTemporary(name: name) { return .temporary }
        if metadataNames.contains(name) { return .metadata }
        if name == endMarkerName, path.parent?.isRoot == true { return .endMarker }
        return .data
    }
}
