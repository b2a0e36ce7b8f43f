import Glibc
import Synchronization
public import SoftcopyCore

/// A source's removal journal (`RemovalRecord`), beside the source folder: the source is
/// removed last, and the record of what went from it must outlive it until the run that
/// removed it has finished. Written whole and made durable (file and folder) before the
/// first unlink; each removal is appended after it, and made durable in batches (a lost
/// `X` line only loses when that file went: its plan line says it was verified).
public final class RemovalJournal: Sendable {
    public let path: String
    private let descriptor: Mutex<Int32>

    /// `/data/acq.zarr` keeps its journal at `/data/.acq.zarr.softcopy-removal`.
    public static func location(ofSource source: String) -> String {
        let parent = PathNormalizer.directory(of: source)
        let name = source.split(separator: "/").last.map(String.init) ?? "source"
        return (parent == "/" ? "" : parent) + "/." + name + ".softcopy-removal"
    }

    /// The journal an earlier run left (a crash or an interruption mid-removal); nil if none.
    public static func load(source: String) throws(SystemError) -> RemovalRecord.State? {
        let p = location(ofSource: source)
        guard (try FileStatus.of(p)) != nil else { return nil }
        let bytes = try readSmallFile(p, limit: Int.max)
        return RemovalRecord.replay(String(decoding: bytes, as: UTF8.self)[...])
    }

    /// Writes `state` (the plan, with what earlier runs removed) durably, replacing any
    /// earlier journal, and opens it for appending removals.
    public init(source: String, state: RemovalRecord.State) throws(SystemError) {
        path = Self.location(ofSource: source)
        let temporary = path + ".new"
        let text = state.lines
        let fd = try syscallRetrying("create", path: temporary) { PathBytes.withCString(temporary) { open($0, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644) } }
        do throws(SystemError) {
            try FileDescriptor.writeAll(fd, contentsOf: text.utf8, path: temporary)
            if fsync(fd) != 0 { throw SystemError("fsync", path: temporary) }
            let p = path
            if PathBytes.withCString(temporary, { from in PathBytes.withCString(p) { rename(from, $0) } }) != 0 { throw SystemError("rename", path: p) }
            try Self.syncFolder(of: p)
        } catch {
            close(fd)
            throw error
        }
        descriptor = Mutex(fd)
    }

    deinit {
        descriptor.withLock { _ = close($0) }
    }

    public func append(_ records: [RemovalRecord]) throws(SystemError) {
        guard !records.isEmpty else { return }
        let p = path
        let text = records.map(\.line).joined()
        try descriptor.withLock { fd throws(SystemError) in try FileDescriptor.writeAll(fd, contentsOf: text.utf8, path: p) }
    }

    public func sync() {
        descriptor.withLock { _ = fdatasync($0) }
    }

    /// The removal is over and recorded in the manifests: the journal goes.
    public func finish() throws(SystemError) {
        let p = path
        if PathBytes.withCString(p, { unlink($0) }) != 0, errno != ENOENT { throw SystemError("unlink", path: p) }
        try Self.syncFolder(of: p)
    }

    private static func syncFolder(of file: String) throws(SystemError) {
        let folder = PathNormalizer.directory(of: file)
        let fd = try syscallRetrying("open", path: folder) { PathBytes.withCString(folder) { open($0, O_RDONLY | O_DIRECTORY | O_CLOEXEC) } }
        defer { close(fd) }
        if fsync(fd) != 0 { throw SystemError("fsync", path: folder) }
    }
}
