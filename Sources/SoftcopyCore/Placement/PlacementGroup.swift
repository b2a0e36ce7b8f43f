/// The group a key belongs to under the locality policy: for a chunk of a known array,
/// the array and the first `dimensions` indices of its grid position (with the time axis
/// first, as in OME-Zarr, one group per time point); for anything else, its folder.
public enum PlacementGroup {
    public static func key(for path: RelativePath, dimensions: Int, hierarchy: ZarrHierarchy) -> String {
        if let (array, kind) = hierarchy.locate(path), case .chunk = kind,
           case .array(let layout)? = hierarchy.nodes[array], let key = path.relative(to: array),
           let index = layout.keyEncoding.index(forKey: key.string[...], rank: layout.rank) {
            return array.string + "#" + index.prefix(dimensions).map(String.init).joined(separator: ",")
        }
        return path.parent?.string ?? ""
    }
}
