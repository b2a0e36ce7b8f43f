import Glibc
import SoftcopyCore

/// A source archive written the way zarr-python writes one (each file to
/// `NAME.<32 hex>.partial`, then renamed over its name), by a test's script of files
/// appearing, changing and vanishing: no Python, no writer process.
public struct SourceScript: Sendable {
    public let root: String

    /// Makes the root with a zarr v3 group and one array `a` of `chunks` chunks of
    /// `chunkBytes` bytes each (not yet written).
    public init(root: String, chunks: Int = 8, chunkBytes: Int = 4096) {
        self.root = root
        mkdir(root, 0o755)
        write("zarr.json", Array(#"{"zarr_format":3,"node_type":"group","attributes":{}}"#.utf8))
        write("a/zarr.json", Array("""
            {"zarr_format":3,"node_type":"array","shape":[\(chunks * chunkBytes)],"data_type":"uint8",\
            "chunk_grid":{"name":"regular","configuration":{"chunk_shape":[\(chunkBytes)]}},\
            "chunk_key_encoding":{"name":"default","configuration":{"separator":"/"}},\
            "fill_value":0,"codecs":[{"name":"bytes"}]}
            """.utf8))
    }

    /// The path of chunk `i` of array `a`, relative to the root.
    public static func chunk(_ i: Int) -> String { "a/c/\(i)" }

    /// The bytes chunk `i` gets in generation `generation`: distinct for each.
    public static func bytes(chunk i: Int, generation: Int = 0, count: Int = 4096) -> [UInt8] {
        var state = UInt64(i &* 7919 &+ generation &* 104_729 &+ 1)
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
    }

    /// Writes chunks `range` (generation `generation`), each renamed into place.
    public func writeChunks(_ range: Range<Int>, generation: Int = 0, count: Int = 4096) {
        for i in range { write(Self.chunk(i), Self.bytes(chunk: i, generation: generation, count: count)) }
    }

    /// Writes `bytes` at `relative` as zarr-python does: a `.partial` file, then a rename.
    public func write(_ relative: String, _ bytes: [UInt8]) {
        let path = root + "/" + relative
        var folder = ""
        for part in relative.split(separator: "/").dropLast() {
            folder += "/" + part
            mkdir(root + folder, 0o755)
        }
        let partial = path + ".0123456789abcdef0123456789abcdef.partial"
        let fd = open(partial, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        precondition(fd >= 0, "cannot create \(partial)")
        _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        precondition(rename(partial, path) == 0, "cannot rename \(partial)")
    }

    /// Leaves a writer's temp file behind, as a writer killed mid-write would.
    public func leaveTemporary(_ relative: String) {
        let fd = open(root + "/" + relative + ".0123456789abcdef0123456789abcdef.partial", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        close(fd)
    }

    public func remove(_ relative: String) {
        unlink(root + "/" + relative)
    }

    /// The end marker: the acquisition is over.
    public func complete() {
        write(ZarrNaming.endMarkerName, [])
    }
}
