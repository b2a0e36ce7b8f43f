import Glibc
import SoftcopyCore
import SoftcopyIO
import SoftcopyTesting

/// The manifest a run left under `root` (a local destination, or one under an agent's root).
func manifest(at root: String) throws -> JSONValue {
    try JSONParser.parse(bytes: try readSmallFile(root + "/" + Manifest.relativePath.string))
}

func statistic(_ manifest: JSONValue, _ key: String) -> Int? {
    manifest["statistics"]?[key]?.int64Value.map { Int($0) }
}

/// Waits, at most `timeout`, until `condition` holds; whether it did. The checks are
/// 20 ms apart: what is awaited is a file landing in a folder, which has no event here.
func eventually(within timeout: Duration = .seconds(10), _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Clock.now() + timeout
    while Clock.now() < deadline {
        if try condition() { return true }
        Clock.sleep(.milliseconds(20))
    }
    return try condition()
}

/// The chunks of the source's array `a` under a copy's root.
func chunkFiles(_ files: [String: [UInt8]]) -> [String: [UInt8]] {
    files.filter { $0.key.hasPrefix("a/c/") }
}

func exists(_ path: String) -> Bool {
    (try? FileStatus.of(path)) != nil
}
