/// The files one node holds, in the format `xxh128sum -c` reads (Debian's `xxhash`):
/// `<32 hex digits>  <path>` per line, the path relative to the destination root, and in
/// the same format with SHA-256 and MD5 for `sha256sum -c` and `md5sum -c` where
/// `checksums:` asks. Written beside the manifest on every node, so a copy can be checked
/// without softcopy: `cd DEST && xxh128sum -c --quiet .softcopy/xxh128sums`.
public enum ChecksumList {
    public static let relativePath = ChecksumAlgorithm.xxh128.listPath

    /// The lines for the files `holder` holds (every file with nil: agents that share one
    /// filesystem share one list), and how many were left out: a name with a newline or a
    /// backslash (xxhsum 0.8.1 reads neither), or bytes that are not UTF-8. Zarr's names
    /// have none; the manifest lists those files all the same.
    public static func lines(_ files: [ArchiveVerdict.VerifiedFile], holder: NodeID?) -> (bytes: [UInt8], leftOut: Int) {
        lines(files, holder: holder) { file, out in
            file.checksum.appendHex(to: &out)
            return true
        }
    }

    /// The same for another checksum: `digest` appends the file's hex digits and says
    /// whether it had them (a file without is left out and counted).
    public static func lines(_ files: [ArchiveVerdict.VerifiedFile], holder: NodeID?,
                             digest: (ArchiveVerdict.VerifiedFile, inout [UInt8]) -> Bool) -> (bytes: [UInt8], leftOut: Int) {
        var out: [UInt8] = []
        out.reserveCapacity(files.count * 64)
        var leftOut = 0
        for file in files where holder.map({ file.holders.contains($0) }) ?? true {
            guard isPlain(file.path) else {
                leftOut += 1
                continue
            }
            let mark = out.count
            guard digest(file, &out) else {
                out.removeSubrange(mark...)
                leftOut += 1
                continue
            }
            out += "  ".utf8
            out += file.path.string.utf8
            out.append(UInt8(ascii: "\n"))
        }
        return (out, leftOut)
    }

    /// Whether `bytes` is such a list: each line the algorithm's lowercase hex digits, two
    /// spaces and a relative path (an agent stores only what it can check).
    public static func isValid(_ bytes: [UInt8], algorithm: ChecksumAlgorithm = .xxh128) -> Bool {
        let n = algorithm.hexDigits
        let hex = Set("0123456789abcdef".utf8)
        for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).dropLast() {
            guard line.count > n + 2, line.prefix(n).allSatisfy(hex.contains),
                  line[line.startIndex + n] == UInt8(ascii: " "), line[line.startIndex + n + 1] == UInt8(ascii: " "),
                  (try? RelativePath(validating: String(decoding: line.dropFirst(n + 2), as: UTF8.self))) != nil else { return false }
        }
        return bytes.isEmpty || bytes.last == UInt8(ascii: "\n")
    }

    private static func isPlain(_ path: RelativePath) -> Bool {
        !PathBytes.isEncoded(path.string) && !path.string.utf8.contains { $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\\") }
    }
}
