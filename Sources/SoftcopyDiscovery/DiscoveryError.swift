/// Discovery could not start (the Avahi client library failed outright).
public struct DiscoveryError: Error, CustomStringConvertible, Sendable {
    public var description: String

    init(_ description: String) {
        self.description = description
    }
}
