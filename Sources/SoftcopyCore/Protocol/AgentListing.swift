/// An agent's listing in PYME's format: a JSON object `{"name": [flags, size]}` with a
/// trailing `/` on folder names, so PYME's clusterIO and a plain `curl` read it as they
/// read a PYMEDataServer. On request each file also carries its XXH3-128 checksum
/// (`[flags, size, "hex"]`) and the source version softcopy wrote it from
/// (`[flags, size, "hex", "inode:size:mtime:ctime"]`). A recursive listing uses
/// paths relative to the listed folder as names.
public enum AgentListing {
    /// The listing as JSON text, written directly: a recursive listing of a million
    /// files as a JSONValue tree cost more than reading the files' records.
    public static func encode(_ entries: [ListingEntry], relativeTo base: RelativePath, checksums: Bool) -> String {
        "{" + encodeMembers(entries[...], relativeTo: base, checksums: checksums) + "}"
    }

    /// The members of a listing's object, without its braces: slices of one listing can
    /// be written apart (on several cores) and joined with commas.
    public static func encodeMembers(_ entries: ArraySlice<ListingEntry>, relativeTo base: RelativePath, checksums: Bool) -> String {
        var out = ""
        out.reserveCapacity(entries.count * (checksums ? 120 : 30))
        for (i, entry) in zip(entries.indices, entries) {
            if i > entries.startIndex { out += "," }
            let name = (entry.path.relative(to: base) ?? entry.path).string + (entry.isDirectory ? "/" : "")
            JSONValue.writeString(name, into: &out)
            out += ":["
            out += String(entry.flags)
            out += ","
            out += String(entry.size)
            if checksums, !entry.isDirectory {
                out += entry.checksum.map { ",\"" + $0.hex + "\"" } ?? ",null"
                out += entry.sourceVersion.map { ",\"" + $0.token + "\"" } ?? ",null"
            }
            out += "]"
        }
        return out
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
        if let entries = bytes.withUnsafeBufferPointer({ decodeAsWritten($0, base: base) }) { return entries }
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

    /// The listing exactly as `encode` writes it (no spaces, no escapes, plain decimals),
    /// read straight from the bytes: three allocations an entry fewer than the JSONValue
    /// path, for the millions of entries of a large archive. Anything else, including
    /// every error, gives nil, and the general reader then decodes (or refuses) it.
    private static func decodeAsWritten(_ b: UnsafeBufferPointer<UInt8>, base: RelativePath) -> [ListingEntry]? {
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
        guard byte(UInt8(ascii: "{")) else { return nil }
        var entries: [ListingEntry] = []
        var first = true
        while true {
            if first, byte(UInt8(ascii: "}")) { break }
            first = false
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
            if byte(UInt8(ascii: "}")) { break }
            guard byte(UInt8(ascii: ",")) else { return nil }
        }
        while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
        return i == b.count ? entries : nil
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
