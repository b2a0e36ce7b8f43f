/// What an agent did with a `RemovalRequest`, file by file.
public struct RemovalReport: ControlMessage, Hashable {
    public static let messageName = "removal report"

    public struct Kept: Codable, Sendable, Hashable {
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
}
