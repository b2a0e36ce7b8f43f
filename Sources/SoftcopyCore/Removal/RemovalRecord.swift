/// One line of a source's removal journal (`PARENT/.NAME.softcopy-removal`, beside the
/// source, where the source's own files are): the plan, made durable before the first
/// unlink, then one line per file removed. A restarted coordinator replays it, so a file
/// it removed from the source is known as moved to the destination, never as a deletion
/// to carry there.
///
///     T <destination>                                           where the copy is
///     P <path> <size> <mtime_ns> <ctime_ns> <inode> <xxh3-128>   planned: this verified version
///     X <path> <unix_ns>                                        removed at that time
///
/// Paths are escaped as in the destination journal (`JournalRecord`).
public enum RemovalRecord: Sendable, Hashable {
    case planned(RelativePath, FileVersion, Checksum)
    case removed(RelativePath, wallNanoseconds: Int64)

    public static let header = "softcopy-removal 1"

    public var line: String {
        switch self {
        case .planned(let path, let v, let checksum):
            return "P \(JournalRecord.escape(path.string)) \(v.size) \(v.mtimeNanoseconds) \(v.ctimeNanoseconds) \(v.inode) \(checksum.hex)\n"
        case .removed(let path, let time):
            return "X \(JournalRecord.escape(path.string)) \(time)\n"
        }
    }

    /// Parses one line (without its newline); nil if it is malformed or torn.
    public init?(line: Substring) {
        let fields = line.split(separator: " ", omittingEmptySubsequences: false)
        guard fields.count >= 3, let raw = JournalRecord.unescape(fields[1]),
              let path = try? RelativePath(validating: raw), !path.isRoot else { return nil }
        switch fields[0] {
        case "P":
            guard fields.count == 7, let size = UInt64(fields[2]), let mtime = Int64(fields[3]), let ctime = Int64(fields[4]),
                  let inode = UInt64(fields[5]), let checksum = Checksum(hex: fields[6]) else { return nil }
            self = .planned(path, FileVersion(inode: inode, size: size, mtimeNanoseconds: mtime, ctimeNanoseconds: ctime), checksum)
        case "X":
            guard fields.count == 3, let time = Int64(fields[2]) else { return nil }
            self = .removed(path, wallNanoseconds: time)
        default:
            return nil
        }
    }

    /// What a removal journal says: the versions planned for removal, and when each
    /// removed one went. A torn last line (a crash mid-append) is skipped: the plan line
    /// before it was durable before anything was removed.
    public struct State: Sendable, Hashable {
        public struct Planned: Sendable, Hashable {
            public var version: FileVersion
            public var checksum: Checksum

            public init(version: FileVersion, checksum: Checksum) {
                self.version = version
                self.checksum = checksum
            }
        }

        /// The destination the removed files were copied to: the journal speaks only for
        /// that copy (a new acquisition at the same source path, copied elsewhere, is new).
        public var destination = ""
        public var planned: [RelativePath: Planned] = [:]
        public var removed: [RelativePath: Int64] = [:]

        public init(destination: String) {
            self.destination = destination
        }

        /// The journal's lines for this state (it is rewritten whole when a run plans more).
        public var lines: String {
            var text = RemovalRecord.header + "\n" + "T " + JournalRecord.escape(destination) + "\n"
            for (path, entry) in planned.sorted(by: { $0.key < $1.key }) {
                text += RemovalRecord.planned(path, entry.version, entry.checksum).line
            }
            for (path, time) in removed.sorted(by: { $0.key < $1.key }) {
                text += RemovalRecord.removed(path, wallNanoseconds: time).line
            }
            return text
        }
    }

    public static func replay(_ text: Substring) -> State {
        var state = State(destination: "")
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) where line != header {
            if line.hasPrefix("T "), let destination = JournalRecord.unescape(line.dropFirst(2)) {
                state.destination = destination
                continue
            }
            switch RemovalRecord(line: line) {
            case .planned(let path, let version, let checksum)?: state.planned[path] = .init(version: version, checksum: checksum)
            case .removed(let path, let time)?: state.removed[path] = time
            case nil: continue
            }
        }
        return state
    }
}
