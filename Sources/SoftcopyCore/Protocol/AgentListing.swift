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

    private static func entry(_ name: String, _ value: JSONValue, base: RelativePath) throws(ProtocolError) -> ListingEntry {
        guard let fields = value.arrayValue, fields.count >= 2,
              let flags = fields[0].uint64Value, let size = fields[1].uint64Value else {
            throw ProtocolError("listing entry \(name.debugDescription) must be [flags, size, ...]")
        }
        let isDirectory = flags & 1 != 0 || name.hasSuffix("/")
        let trimmed = name.hasSuffix("/") ? String(name.dropLast()) : name
        let relative: RelativePath
        do {
            relative = try RelativePath(validating: trimmed)
        } catch {
            throw ProtocolError("listing entry \(name.debugDescription) is not a relative path: \(error)")
        }
        guard !relative.isRoot else { throw ProtocolError("listing entry \(name.debugDescription) has an empty name") }
        var entry = ListingEntry(path: base.appending(relative), isDirectory: isDirectory, isDataset: flags & 2 != 0, size: size)
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
}
