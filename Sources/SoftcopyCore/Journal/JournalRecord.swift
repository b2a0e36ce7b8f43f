/// One line of the destination journal (`DEST/.softcopy/journal`): what softcopy made
/// durable there. Replayed at start so a restarted coordinator sends nothing again that
/// is already there and correct. Lines are appended after each durable write; a torn last
/// line from a crash is expected and skipped.
///
///     C <path> <size> <mtime_ns> <ctime_ns> <inode> <xxh3-128> <dest_inode>
///     D <path>
///     O <host> <source>      (each run's source, as `.softcopy/origin.json` has it)
///
/// Paths are percent-escaped (space, `%` and control characters) so a line splits on spaces,
/// and a name that is not UTF-8 has its bytes from 0x80 escaped too (`caf%E9`): the journal
/// holds the bytes on disk, and stays text.
public enum JournalRecord: Sendable, Hashable {
    case copied(RelativePath, DestinationRecord)
    case deleted(RelativePath)

    public static let header = "softcopy-journal 1"

    /// The line that records which source a run copied from.
    public static func originLine(_ origin: CopyOrigin) -> String {
        "O \(escape(origin.host)) \(escape(origin.source))\n"
    }

    public var line: String {
        switch self {
        case .copied(let path, let d):
            let v = d.version
            return "C \(Self.escape(path.string)) \(v.size) \(v.mtimeNanoseconds) \(v.ctimeNanoseconds) \(v.inode) \(d.checksum.hex) \(d.inode)\n"
        case .deleted(let path):
            return "D \(Self.escape(path.string))\n"
        }
    }

    /// Parses one line (without its newline); nil if it is malformed or torn.
    public init?(line: Substring) {
        let fields = line.split(separator: " ", omittingEmptySubsequences: false)
        guard let kind = fields.first, fields.count >= 2,
              let raw = Self.unescape(fields[1]),
              let path = try? RelativePath(validating: raw), !path.isRoot
        else { return nil }
        switch kind {
        case "C":
            guard fields.count == 8,
                  let size = UInt64(fields[2]), let mtime = Int64(fields[3]), let ctime = Int64(fields[4]),
                  let inode = UInt64(fields[5]), let checksum = Checksum(hex: fields[6]), let destInode = UInt64(fields[7])
            else { return nil }
            let version = FileVersion(inode: inode, size: size, mtimeNanoseconds: mtime, ctimeNanoseconds: ctime)
            self = .copied(path, .init(version: version, checksum: checksum, inode: destInode))
        case "D":
            guard fields.count == 2 else { return nil }
            self = .deleted(path)
        default:
            return nil
        }
    }

    /// Replays journal text: the last record per path wins. Returns the surviving
    /// records and the number of malformed lines skipped.
    public static func replay(_ text: Substring) -> (records: [RelativePath: DestinationRecord], skipped: Int) {
        var records: [RelativePath: DestinationRecord] = [:]
        var skipped = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line == header || line.hasPrefix("O ") { continue }
            switch JournalRecord(line: line) {
            case .copied(let path, let d)?: records[path] = d
            case .deleted(let path)?: records[path] = nil
            case nil: skipped += 1
            }
        }
        return (records, skipped)
    }

    static func escape(_ s: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var bytes: [UInt8] = []
        let raw = PathBytes.isEncoded(s)
        for b in PathBytes.bytes(of: s) {
            if b <= 0x20 || b == UInt8(ascii: "%") || b == 0x7F || (raw && b >= 0x80) {
                bytes += [UInt8(ascii: "%"), hex[Int(b >> 4)], hex[Int(b & 0xF)]]
            } else {
                bytes.append(b)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func unescape(_ s: Substring) -> String? {
        var bytes: [UInt8] = []
        var it = Array(s.utf8)[...]
        while let b = it.popFirst() {
            if b == UInt8(ascii: "%") {
                guard let h = it.popFirst(), let l = it.popFirst(),
                      let hv = HexDigit.value(h), let lv = HexDigit.value(l) else { return nil }
                bytes.append(hv << 4 | lv)
            } else {
                bytes.append(b)
            }
        }
        return PathBytes.string(from: bytes)
    }
}
