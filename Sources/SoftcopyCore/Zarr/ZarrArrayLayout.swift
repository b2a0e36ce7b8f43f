/// The file layout of one zarr array: which chunk (or shard) files it can have.
public struct ZarrArrayLayout: Sendable, Hashable {
    public var zarrFormat: Int
    public var shape: [Int64]
    /// The shape covered by one file: the chunk shape, or the shard shape when sharded.
    /// Nil when the grid is not a regular one we understand (then no upper bound is known).
    public var fileGrid: [Int64]?
    public var keyEncoding: ChunkKeyEncoding
    public var sharded: Bool
    /// The element size in bytes when the array's codecs leave its chunk files raw (no
    /// compressor: what a fast camera writer often chooses); nil when they compress, or
    /// use a codec this version does not know. Wire compression is for raw chunks.
    public var rawItemSize: Int?

    public init(zarrFormat: Int, shape: [Int64], fileGrid: [Int64]?, keyEncoding: ChunkKeyEncoding, sharded: Bool, rawItemSize: Int? = nil) {
        self.zarrFormat = zarrFormat
        self.shape = shape
        self.fileGrid = fileGrid
        self.keyEncoding = keyEncoding
        self.sharded = sharded
        self.rawItemSize = rawItemSize
    }

    public var rank: Int { shape.count }

    /// Files per dimension: ceil(shape / grid).
    public var filesPerDimension: [Int64]? {
        guard let grid = fileGrid, grid.count == shape.count else { return nil }
        return zip(shape, grid).map(Self.files)
    }

    /// Files along one dimension. Written so that no shape, however large or negative, can
    /// overflow (found by fuzzing).
    private static func files(extent: Int64, step: Int64) -> Int64 {
        guard step > 0, extent > 0 else { return 0 }
        return extent / step + (extent % step == 0 ? 0 : 1)
    }

    /// The most chunk files this array can have. Fill-value chunks are never written, so the
    /// real count is often lower: this is an upper bound, never a target.
    public var maximumFileCount: UInt64? {
        guard let perDimension = filesPerDimension else { return nil }
        var total: UInt64 = 1
        for n in perDimension {
            let (product, overflow) = total.multipliedReportingOverflow(by: UInt64(max(n, 0)))
            total = overflow ? .max : product
        }
        return total
    }

    /// Whether `key` (relative to the array's directory) names a chunk file of this array,
    /// and if so whether it lies inside the current shape.
    public func classify(key: Substring) -> ChunkKeyClass {
        classify(key: key, filesPerDimension: filesPerDimension)
    }

    /// The same, with `filesPerDimension` worked out once for many keys.
    public func classify(key: Substring, filesPerDimension perDimension: [Int64]?) -> ChunkKeyClass {
        var inside = true
        let wellFormed = keyEncoding.visitIndex(forKey: key, rank: rank) { dimension, index in
            if let perDimension, index < 0 || index >= perDimension[dimension] { inside = false }
        }
        return wellFormed ? .chunk(inBounds: inside) : .notAChunk
    }
}

public enum ChunkKeyClass: Sendable, Hashable {
    case notAChunk
    case chunk(inBounds: Bool)
}
