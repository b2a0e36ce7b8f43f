/// Parses zarr v2 and v3 metadata documents into the layout facts softcopy needs.
public enum ZarrMetadataParser {
    public struct Error: Swift.Error, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
        init(_ message: String) { self.message = message }
    }

    /// Parses the metadata file `name` (`zarr.json`, `.zarray`, `.zgroup`, `.zattrs`, `.zmetadata`).
    public static func parse(name: some StringProtocol, bytes: [UInt8]) throws(Error) -> ZarrNode {
        let json: JSONValue
        do {
            json = try JSONParser.parse(bytes: bytes)
        } catch {
            throw Error("not valid JSON: \(error)")
        }
        switch name {
        case "zarr.json": return try parseV3(json)
        case ".zarray": return try parseV2Array(json)
        case ".zgroup":
            try requireFormat(json, 2)
            return .group(zarrFormat: 2)
        case ".zattrs", ".zmetadata":
            guard case .object = json else { throw Error("expected a JSON object") }
            return .attributes
        default:
            throw Error("'\(name)' is not a zarr metadata file name")
        }
    }

    private static func requireFormat(_ json: JSONValue, _ expected: Int64) throws(Error) {
        guard case .object = json else { throw Error("expected a JSON object") }
        guard let format = json["zarr_format"]?.int64Value else { throw Error("missing integer 'zarr_format'") }
        guard format == expected else { throw Error("zarr_format is \(format), expected \(expected)") }
    }

    private static func dimensions(_ value: JSONValue?, _ field: String) throws(Error) -> [Int64] {
        guard let elements = value?.arrayValue else { throw Error("'\(field)' must be an array of integers") }
        var result: [Int64] = []
        for element in elements {
            guard let n = element.int64Value, n >= 0 else {
                throw Error("'\(field)' must hold non-negative integers, found \(element.serialized())")
            }
            result.append(n)
        }
        return result
    }

    private static func separator(_ value: JSONValue?, default fallback: Character, field: String) throws(Error) -> Character {
        guard let value, value != .null else { return fallback }
        guard let s = value.stringValue, s == "." || s == "/" else {
            throw Error("'\(field)' must be \".\" or \"/\", found \(value.serialized())")
        }
        return Character(s)
    }

    private static func parseV2Array(_ json: JSONValue) throws(Error) -> ZarrNode {
        try requireFormat(json, 2)
        let shape = try dimensions(json["shape"], "shape")
        let chunks = try dimensions(json["chunks"], "chunks")
        guard chunks.count == shape.count else {
            throw Error("'chunks' has \(chunks.count) dimensions but 'shape' has \(shape.count)")
        }
        let sep = try separator(json["dimension_separator"], default: ".", field: "dimension_separator")
        return .array(ZarrArrayLayout(
            zarrFormat: 2, shape: shape, fileGrid: chunks, keyEncoding: .v2(separator: sep), sharded: false,
            rawItemSize: rawItemSizeV2(json)))
    }

    private static func parseV3(_ json: JSONValue) throws(Error) -> ZarrNode {
        try requireFormat(json, 3)
        guard let nodeType = json["node_type"]?.stringValue else { throw Error("missing string 'node_type'") }
        switch nodeType {
        case "group": return .group(zarrFormat: 3)
        case "array": break
        default: throw Error("unknown node_type '\(nodeType)'")
        }
        let shape = try dimensions(json["shape"], "shape")

        // Only the regular grid has a fixed file layout; other grids still copy, unbounded.
        var grid: [Int64]?
        guard let chunkGrid = json["chunk_grid"] else { throw Error("missing 'chunk_grid'") }
        if chunkGrid["name"]?.stringValue == "regular" {
            let shapeOfChunk = try dimensions(chunkGrid["configuration"]?["chunk_shape"], "chunk_grid.configuration.chunk_shape")
            guard shapeOfChunk.count == shape.count else {
                throw Error("chunk_shape has \(shapeOfChunk.count) dimensions but 'shape' has \(shape.count)")
            }
            grid = shapeOfChunk
        }

        let encoding: ChunkKeyEncoding
        let cke = json["chunk_key_encoding"]
        switch cke?["name"]?.stringValue {
        case "default", nil:
            encoding = .v3Default(separator: try separator(
                cke?["configuration"]?["separator"], default: "/", field: "chunk_key_encoding.configuration.separator"))
        case "v2":
            encoding = .v2(separator: try separator(
                cke?["configuration"]?["separator"], default: ".", field: "chunk_key_encoding.configuration.separator"))
        case let other?:
            throw Error("unsupported chunk_key_encoding '\(other)'")
        }

        // The sharding codec, when present, is the array-to-bytes codec: the grid is the shard grid.
        let sharded = json["codecs"]?.arrayValue?.contains { $0["name"]?.stringValue == "sharding_indexed" } ?? false
        return .array(ZarrArrayLayout(zarrFormat: 3, shape: shape, fileGrid: grid, keyEncoding: encoding, sharded: sharded,
                                      rawItemSize: rawItemSizeV3(json)))
    }
}
