import Glibc
import Synchronization
public import SoftcopyCore

/// The destination's journal (`DEST/.softcopy/journal`): one line per durable write or
/// deletion, appended after the rename is durable. A killed coordinator replays it at
/// start and re-sends nothing that is still there and unchanged.
public final class JournalFile: Sendable {
    public let path: String
    private let descriptor: Mutex<Int32>
    /// The source this run copies from: recorded at start and kept by compaction.
    private let origin: CopyOrigin?

    public static let fileName = "journal"

    /// Opens the journal for appending, creating `.softcopy/` if needed.
    public init(destinationRoot: String, origin: CopyOrigin? = nil) throws(SystemError) {
        self.origin = origin
        let directory = destinationRoot + "/" + DestinationTree.stateDirectoryName
        if PathBytes.withCString(directory, { mkdir($0, 0o755) }) != 0, errno != EEXIST {
            throw SystemError("mkdir", path: directory)
        }
        path = directory + "/" + Self.fileName
        let p = path
        let fd = try syscallRetrying("open", path: p) { PathBytes.withCString(p) { open($0, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644) } }
        descriptor = Mutex(fd)
        var st = stat()
        if fstat(fd, &st) == 0, st.st_size == 0 {
            try append(JournalRecord.header + "\n")
        }
        if let origin { try append(JournalRecord.originLine(origin)) }
    }

    deinit {
        descriptor.withLock { _ = close($0) }
    }

    /// Reads an existing journal; empty if there is none.
    public static func load(destinationRoot: String) throws(SystemError) -> (records: [RelativePath: DestinationRecord], skipped: Int) {
        let p = destinationRoot + "/" + DestinationTree.stateDirectoryName + "/" + fileName
        guard (try FileStatus.of(p)) != nil else { return ([:], 0) }
        let bytes = try readSmallFile(p, limit: Int.max)
        return JournalRecord.replay(String(decoding: bytes, as: UTF8.self)[...])
    }

    public func append(_ records: [JournalRecord]) throws(SystemError) {
        guard !records.isEmpty else { return }
        try append(records.map(\.line).joined())
    }

    private func append(_ text: String) throws(SystemError) {
        let p = path
        try descriptor.withLock { fd throws(SystemError) in try FileDescriptor.writeAll(fd, contentsOf: text.utf8, path: p) }
    }

    /// Makes appended lines durable (a power cut otherwise only costs a re-send).
    public func sync() {
        descriptor.withLock { _ = fdatasync($0) }
    }

    /// Replaces the journal with one line per file the destination holds, so it does not
    /// grow without bound across runs.
    public func compact(_ records: [(RelativePath, DestinationRecord)]) throws(SystemError) {
        let temporary = path + ".compact"
        let text = JournalRecord.header + "\n" + (origin.map(JournalRecord.originLine) ?? "") + records.map { JournalRecord.copied($0.0, $0.1).line }.joined()
        let fd = try syscallRetrying("create", path: temporary) { PathBytes.withCString(temporary) { open($0, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644) } }
        let file = FileDescriptor(owning: fd)
        try FileDescriptor.writeAll(fd, contentsOf: text.utf8, path: temporary)
        try file.sync(path: temporary)
        let p = path
        let reopenFailure: Int32 = descriptor.withLock { current in
            if PathBytes.withCString(temporary, { from in PathBytes.withCString(p) { rename(from, $0) } }) != 0 { return errno }
            close(current)
            current = PathBytes.withCString(p) { open($0, O_WRONLY | O_APPEND | O_CLOEXEC) }
            return current < 0 ? errno : 0
        }
        if reopenFailure != 0 { throw SystemError("replace", path: p, errno: reopenFailure) }
    }
}
