import Glibc
import SoftcopyCore

/// The canonical absolute path of an existing file (realpath(3): every symbolic link,
/// `.` and `..` resolved); nil if it does not exist or cannot be resolved.
public func realPath(_ path: String) -> String? {
    guard let resolved = PathBytes.withCString(path, { realpath($0, nil) }) else { return nil }
    defer { free(resolved) }
    return resolved.withMemoryRebound(to: UInt8.self, capacity: 1) { PathBytes.string(from: UnsafeBufferPointer(start: $0, count: strlen(resolved))) }
}
