/// A watch entry's destination: a path with `{name}` (the archive's folder name),
/// `{path}` (its path below the watched folder), `{date}` (YYYY-MM-DD, the day the
/// service first saw it) and `{host}` (the coordinator's host name). Filled values never
/// add `..` or empty components: a name is one component by construction, and a
/// relative path comes from a walk below the folder.
public struct DestinationTemplate: Sendable, Hashable, CustomStringConvertible {
    public struct Values: Sendable {
        public var name: String
        public var path: String
        public var date: String
        public var host: String

        public init(name: String, path: String, date: String, host: String) {
            self.name = name
            self.path = path
            self.date = date
            self.host = host
        }
    }

    public static let placeholders = ["name", "path", "date", "host"]

    public let text: String

    /// Nil, with the reason, when a `{...}` is not a known placeholder or is not closed.
    public static func parse(_ text: String) -> Result<DestinationTemplate, ConfigMessage> {
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{") {
            guard let close = rest[open...].firstIndex(of: "}") else {
                return .failure(ConfigMessage("'{' without its '}' in '\(text)'"))
            }
            let name = String(rest[rest.index(after: open)..<close])
            guard placeholders.contains(name) else {
                return .failure(ConfigMessage("unknown placeholder {\(name)} in '\(text)'; known: \(placeholders.map { "{\($0)}" }.joined(separator: ", "))"))
            }
            rest = rest[rest.index(after: close)...]
        }
        if rest.contains("}") { return .failure(ConfigMessage("'}' without its '{' in '\(text)'")) }
        return .success(DestinationTemplate(text: text))
    }

    private init(text: String) {
        self.text = text
    }

    /// Whether the destination differs per archive (else every archive would share one).
    public var namesEachArchive: Bool { text.contains("{name}") || text.contains("{path}") }

    /// The part before the first placeholder: the folder every destination lies in.
    public var fixedPrefix: String {
        guard let open = text.firstIndex(of: "{") else { return text }
        let head = text[..<open]
        guard let slash = head.lastIndex(of: "/") else { return "" }
        return String(head[..<slash])
    }

    public func fill(_ values: Values) -> String {
        var out = ""
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            out += rest[..<open]
            switch rest[rest.index(after: open)..<close] {
            case "name": out += values.name
            case "path": out += values.path
            case "date": out += values.date
            case "host": out += values.host
            default: out += rest[open...close]
            }
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
    }

    public var description: String { text }
}

/// A message about a configuration value, placed in a `ConfigError` by its reader.
public struct ConfigMessage: Error, Sendable {
    public var text: String
    public init(_ text: String) { self.text = text }
}
