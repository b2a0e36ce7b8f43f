/// Which source a destination holds a copy of, kept beside it
/// (`DEST/.softcopy/origin.json`, written by whoever writes the destination: the
/// coordinator locally, each agent under its root). A run from another source into the
/// same destination would otherwise "resume" it and replace the copy file by file; it is
/// refused unless the user says to replace it (`--replace`, `replace: true`).
public struct CopyOrigin: ControlMessage, Hashable, CustomStringConvertible {
    public static let messageName = "origin"

    /// The acquisition PC's host name.
    public var host: String
    /// The source folder, with symbolic links resolved.
    public var source: String
    /// When the copy from this source began (UTC, ISO 8601), for the message.
    public var since: String

    public static let relativePath = RelativePath(unchecked: ZarrNaming.stateDirectoryName + "/origin.json")

    public init(host: String, source: String, since: String) {
        self.host = host
        self.source = source
        self.since = since
    }

    public var description: String { "\(source) on \(host)" }

    public func isSameSource(as other: CopyOrigin) -> Bool {
        host == other.host && source == other.source
    }

    enum CodingKeys: String, CodingKey {
        case host, source, since
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        host = try c.decode(String.self, forKey: .host)
        source = try c.decode(String.self, forKey: .source)
        since = try c.decodeIfPresent(String.self, forKey: .since) ?? "?"
    }

    /// What a run from `incoming` may do with a destination that holds `existing`.
    public enum Admission: Sendable, Hashable {
        /// No copy recorded there yet: record this one.
        case fresh
        /// The same source: resume.
        case resume
        /// Another source, and the user asked to replace its copy: record this one.
        case replace(CopyOrigin)
        /// Another source: refused, naming it.
        case refuse(CopyOrigin)
    }

    public static func admit(_ incoming: CopyOrigin, over existing: CopyOrigin?, replace: Bool) -> Admission {
        guard let existing else { return .fresh }
        if existing.isSameSource(as: incoming) { return .resume }
        return replace ? .replace(existing) : .refuse(existing)
    }

    /// The refusal, in words that say what to do.
    public static func refusal(destination: String, holds existing: CopyOrigin, incoming: CopyOrigin) -> String {
        "\(destination) holds the copy of another source, \(existing) (since \(existing.since)); copying \(incoming.source) there would replace it file by file. Choose another destination, or pass --replace (replace: true) to replace that copy"
    }
}
