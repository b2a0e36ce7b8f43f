/// The coordinator's answer to an ack: how many results it took, and how many were for
/// leases no longer current (expired or moved to another agent).
public struct AckAnswer: ControlMessage, Hashable {
    public static let messageName = "ack answer"

    public var accepted: Int
    public var stale: Int

    public init(accepted: Int, stale: Int) {
        self.accepted = accepted
        self.stale = stale
    }
}
