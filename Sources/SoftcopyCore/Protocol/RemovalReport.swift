/// What an agent did with a `RemovalRequest`, file by file.
public struct RemovalReport: Sendable, Hashable {
    public struct Kept: Sendable, Hashable {
        public var path: RelativePath
        public var reason: String

        public init(path: RelativePath, reason: String) {
            self.path = path
            self.reason = reason
        }
    }

    /// Removed, and the removal made durable.
    public var removed: [RelativePath] = []
    /// Not there (already removed, or never written).
    public var absent: [RelativePath] = []
    /// Left in place: not the copy the request named, or the removal failed.
    public var kept: [Kept] = []

    public init(removed: [RelativePath] = [], absent: [RelativePath] = [], kept: [Kept] = []) {
        self.removed = removed
        self.absent = absent
        self.kept = kept
    }

    public var json: JSONValue {
        .object([
            ("removed", .array(removed.map { .string($0.string) })),
            ("absent", .array(absent.map { .string($0.string) })),
            ("kept", .array(kept.map { .object([("path", .string($0.path.string)), ("reason", .string($0.reason))]) })),
        ])
    }

    public init(json: JSONValue) throws(ProtocolError) {
        let r = try FieldReader(json, context: "removal report")
        func paths(_ key: String) throws(ProtocolError) -> [RelativePath] {
            var out: [RelativePath] = []
            for value in try r.array(key) {
                guard let text = value.stringValue, let path = try? RelativePath(validating: text) else {
                    throw ProtocolError("removal report: '\(key)' must list relative paths")
                }
                out.append(path)
            }
            return out
        }
        removed = try paths("removed")
        absent = try paths("absent")
        var kept: [Kept] = []
        for (n, value) in try r.array("kept").enumerated() {
            let k = try FieldReader(value, context: "removal report: kept[\(n)]")
            kept.append(Kept(path: try k.path("path"), reason: try k.string("reason")))
        }
        self.kept = kept
    }
}
