/// Whether an array's chunk files hold its elements raw, and their size: read from the
/// metadata, never from the chunks. Anything unknown counts as compressed, so a codec
/// this version has not heard of is never compressed twice by `auto`.
extension ZarrMetadataParser {
    /// v3 codecs that leave the bytes as they are (order, endianness, an appended CRC).
    static let rawCodecs: Set<String> = ["bytes", "transpose", "crc32c"]

    /// v2: no compressor and no filters; the element size from `dtype` (`"<u2"`: 2).
    static func rawItemSizeV2(_ json: JSONValue) -> Int? {
        guard json["compressor"] == nil || json["compressor"] == .null else { return nil }
        if let filters = json["filters"], filters != .null, filters.arrayValue?.isEmpty != true { return nil }
        guard let dtype = json["dtype"]?.stringValue else { return 1 }  // a structured dtype: raw, not shuffled
        let digits = dtype.drop { !$0.isNumber }
        guard let size = Int(digits), size > 0 else { return 1 }
        // "<U4" holds four UCS-4 characters; the others count bytes.
        return dtype.dropFirst().first == "U" ? 4 : size
    }

    /// v3: every codec a raw one; inside a shard, the chunks' codecs (its index's do not
    /// matter, it is a few bytes). The element size from `data_type`.
    static func rawItemSizeV3(_ json: JSONValue) -> Int? {
        guard let codecs = json["codecs"]?.arrayValue else { return nil }
        for codec in codecs {
            guard let name = codec["name"]?.stringValue else { return nil }
            if name == "sharding_indexed" {
                guard let inner = codec["configuration"]?["codecs"]?.arrayValue,
                      inner.allSatisfy({ $0["name"]?.stringValue.map(rawCodecs.contains) ?? false }) else { return nil }
            } else if !rawCodecs.contains(name) {
                return nil
            }
        }
        switch json["data_type"]?.stringValue {
        case "bool", "int8", "uint8": return 1
        case "int16", "uint16", "float16": return 2
        case "int32", "uint32", "float32": return 4
        case "int64", "uint64", "float64", "complex64": return 8
        case "complex128": return 16
        default: return 1
        }
    }
}
