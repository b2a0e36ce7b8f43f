/// An agent's listing in PYME's format: a JSON object `{"name": [flags, size]}` with a
/// trailing `/` on folder names, so PYME's clusterIO and a plain `curl` read it as they
/// read a PYMEDataServer. On request each file also carries its XXH3-128 checksum
/// (`[flags, size, "hex"]`) and the source version softcopy wrote it from
/// (`[flags, size, "hex", "inode:size:mtime:ctime"]`). A recursive listing uses
/// paths relative to the listed folder as names.
///
/// Written and read by hand, not through the control messages' Codable coders: a million
/// entries take 0.47 s here and 6.5 s through `JSONValueEncoder` + `serialized`
/// (`bench/wire_encoding.sh`, release build, this project's 2-core machine).
public enum AgentListing {
    /// The listing of `entries` as JSON text: the same members, through `appendValue`,
    /// that an agent writes one by one as it walks its folders.
    public static func encode(_ entries: [ListingEntry], relativeTo base: RelativePath, checksums: Bool) -> String {
        var out: [UInt8] = [UInt8(ascii: "{")]
        out.reserveCapacity(entries.count * (checksums ? 100 : 30))
        for entry in entries {
            if out.count > 1 { out.append(UInt8(ascii: ",")) }
            let path = entry.path.relative(to: base) ?? entry.path
            JSONBytes.appendString(entry.isDirectory ? path.string + "/" : path.string, to: &out)
            appendValue(flags: entry.flags, size: entry.size, checksum: entry.checksum, sourceVersion: entry.sourceVersion,
                        checksums: checksums && !entry.isDirectory, to: &out)
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }

    /// What follows a member's name: `:[flags,size]`, or with `checksums`
    /// `:[flags,size,"hex","token"]` (null for what is unknown). An agent writes its
    /// listing member by member with this as it walks its folders.
    public static func appendValue(flags: Int, size: UInt64, checksum: Checksum?, sourceVersion: FileVersion?, checksums: Bool,
                                   to out: inout [UInt8]) {
        out += ":[".utf8
        JSONBytes.appendDecimal(UInt64(flags), to: &out)
        out.append(UInt8(ascii: ","))
        JSONBytes.appendDecimal(size, to: &out)
        if checksums {
            appendQuoted(checksum, to: &out) { $0.appendHex(to: &$1) }
            appendQuoted(sourceVersion, to: &out) { $0.appendToken(to: &$1) }
        }
        out.append(UInt8(ascii: "]"))
    }

    /// `,"…"` with what `write` writes of `value`, or `,null` without a value.
    private static func appendQuoted<T>(_ value: T?, to out: inout [UInt8], _ write: (T, inout [UInt8]) -> Void) {
        guard let value else {
            out += ",null".utf8
            return
        }
        out += ",\"".utf8
        write(value, &out)
        out.append(UInt8(ascii: "\""))
    }

    /// Parses a listing of `base`; entries' paths are `base` joined with their names.
    public static func decode(_ json: JSONValue, base: RelativePath) throws(ProtocolError) -> [ListingEntry] {
        guard let members = json.objectValue else { throw ProtocolError("a listing must be a JSON object of name: [flags, size]") }
        var entries: [ListingEntry] = []
        entries.reserveCapacity(members.count)
        for (name, value) in members {
            entries.append(try entry(name, value, base: base))
        }
        return entries
    }

    /// Parses a listing from its text, one entry at a time (what a coordinator does with
    /// an agent's listing of up to millions of files).
    public static func decode(bytes: [UInt8], base: RelativePath) throws(ProtocolError) -> [ListingEntry] {
        if let runs = memberRunsAsWritten(bytes, parts: 1), let entries = decodeMembersAsWritten(bytes, runs[0], base: base) {
            return entries
        }
        var entries: [ListingEntry] = []
        do {
            var reader = try JSONParser.ObjectReader(bytes: bytes)
            while let (name, value) = try reader.next() {
                entries.append(try entry(name, value, base: base))
            }
        } catch let error as ProtocolError {
            throw error
        } catch {
            throw ProtocolError("the listing is not valid JSON: \(error)")
        }
        return entries
    }

    /// A listing exactly as `encode` writes it (no spaces, no escapes, plain decimals)
    /// is read straight from its bytes: three allocations an entry fewer than the JSONValue
    /// path, for the millions of entries of a large archive. These are `parts` runs of
    /// whole members, to be decoded side by side with `decodeMembersAsWritten`: each run
    /// ends at a `],"`, which outside a string is only ever found between two members. One
    /// found inside a name leaves that run ending in an unclosed string, which decodes to
    /// nil, as does anything else not as written; the general reader then decodes (or
    /// refuses) the listing. Nil if the text is not an object.
    public static func memberRunsAsWritten(_ bytes: [UInt8], parts: Int) -> [Range<Int>]? {
        var end = bytes.count
        while end > 0, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x0A || bytes[end - 1] == 0x0D || bytes[end - 1] == 0x09 { end -= 1 }
        guard end >= 2, bytes[0] == UInt8(ascii: "{"), bytes[end - 1] == UInt8(ascii: "}") else { return nil }
        let members = 1..<(end - 1)
        var runs: [Range<Int>] = []
        var start = members.lowerBound
        for k in 1..<max(parts, 1) {
            var i = max(start, members.lowerBound + members.count * k / parts)
            while i + 2 < members.upperBound,
                  !(bytes[i] == UInt8(ascii: "]") && bytes[i + 1] == UInt8(ascii: ",") && bytes[i + 2] == UInt8(ascii: "\"")) {
                i += 1
            }
            guard i + 2 < members.upperBound else { break }
            runs.append(start..<(i + 1))
            start = i + 2
        }
        runs.append(start..<members.upperBound)
        return runs
    }

    /// The members in `run` (see `memberRunsAsWritten`), or nil if they are not exactly
    /// as `encode` writes them.
    public static func decodeMembersAsWritten(_ bytes: [UInt8], _ run: Range<Int>, base: RelativePath) -> [ListingEntry]? {
        guard run.lowerBound >= 0, run.upperBound <= bytes.count else { return nil }
        return bytes.withUnsafeBufferPointer { all in decodeMembers(UnsafeBufferPointer(rebasing: all[run]), base: base) }
    }

    private static func decodeMembers(_ b: UnsafeBufferPointer<UInt8>, base: RelativePath) -> [ListingEntry]? {
        var i = 0
        func byte(_ c: UInt8) -> Bool {
            guard i < b.count, b[i] == c else { return false }
            i += 1
            return true
        }
        func number() -> UInt64? {
            let start = i
            var value: UInt64 = 0
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39 {
                let (times10, o1) = value.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(UInt64(b[i] - 0x30))
                guard !o1, !o2 else { return nil }
                value = sum
                i += 1
            }
            // JSON has no leading zeros; the general reader says so.
            guard i > start, b[start] != 0x30 || i == start + 1 else { return nil }
            return value
        }
        /// A string without escapes or control characters: its bytes, after the quote.
        func plainString() -> UnsafeBufferPointer<UInt8>? {
            guard byte(UInt8(ascii: "\"")) else { return nil }
            let start = i
            while i < b.count, !JSONValue.needsEscape(b[i]) { i += 1 }
            guard byte(UInt8(ascii: "\"")) else { return nil }
            return UnsafeBufferPointer(rebasing: b[start..<(i - 1)])
        }
        func isNull() -> Bool {
            guard i + 4 <= b.count, b[i] == UInt8(ascii: "n"), b[i + 1] == UInt8(ascii: "u"),
                  b[i + 2] == UInt8(ascii: "l"), b[i + 3] == UInt8(ascii: "l") else { return false }
            i += 4
            return true
        }
        var entries: [ListingEntry] = []
        while i < b.count {
            if !entries.isEmpty { guard byte(UInt8(ascii: ",")) else { return nil } }
            guard let nameBytes = plainString(), let name = String(validating: nameBytes, as: UTF8.self),
                  byte(UInt8(ascii: ":")), byte(UInt8(ascii: "[")),
                  let flags = number(), byte(UInt8(ascii: ",")), let size = number() else { return nil }
            var checksum: Checksum?
            var version: FileVersion?
            if byte(UInt8(ascii: ",")) {
                if !isNull() {
                    guard let hex = plainString(), let c = Checksum(hexUTF8: hex) else { return nil }
                    checksum = c
                }
                guard byte(UInt8(ascii: ",")) else { return nil }
                if !isNull() {
                    guard let token = plainString(), let v = FileVersion(tokenUTF8: token) else { return nil }
                    version = v
                }
            }
            guard byte(UInt8(ascii: "]")), var entry = try? Self.entry(named: name, flags: flags, size: size, base: base) else { return nil }
            entry.checksum = checksum
            entry.sourceVersion = version
            entries.append(entry)
        }
        return entries
    }

    private static func entry(_ name: String, _ value: JSONValue, base: RelativePath) throws(ProtocolError) -> ListingEntry {
        guard let fields = value.arrayValue, fields.count >= 2,
              let flags = fields[0].uint64Value, let size = fields[1].uint64Value else {
            throw ProtocolError("listing entry \(name.debugDescription) must be [flags, size, ...]")
        }
        var entry = try Self.entry(named: name, flags: flags, size: size, base: base)
        if fields.count > 2, let hex = fields[2].stringValue {
            guard let checksum = Checksum(hex: hex) else {
                throw ProtocolError("listing entry \(name.debugDescription): checksum \(hex.debugDescription) is not 32 hex digits")
            }
            entry.checksum = checksum
        }
        if fields.count > 3, let token = fields[3].stringValue {
            guard let version = FileVersion(token: token) else {
                throw ProtocolError("listing entry \(name.debugDescription): version \(token.debugDescription) is malformed")
            }
            entry.sourceVersion = version
        }
        return entry
    }

    /// The entry a name and its flags describe: a trailing `/` or flag 0x01 makes a folder,
    /// and the name must be a clean relative path.
    private static func entry(named name: String, flags: UInt64, size: UInt64, base: RelativePath) throws(ProtocolError) -> ListingEntry {
        let isDirectory = flags & 1 != 0 || name.hasSuffix("/")
        let trimmed = name.hasSuffix("/") ? String(name.dropLast()) : name
        let relative: RelativePath
        do {
            relative = try RelativePath(validating: trimmed)
        } catch {
            throw ProtocolError("listing entry \(name.debugDescription) is not a relative path: \(error)")
        }
        guard !relative.isRoot else { throw ProtocolError("listing entry \(name.debugDescription) has an empty name") }
        return ListingEntry(path: base.appending(relative), isDirectory: isDirectory, isDataset: flags & 2 != 0, size: size)
    }
}
