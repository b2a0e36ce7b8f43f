/// A node of a job: the coordinator's own copy (`.local`, 0) or an agent (1 and up, the
/// number the coordinator gave it when it attached the job). On the wire only agents
/// name themselves, so decoding refuses 0.
public struct NodeID: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var rawValue: UInt32

    public init(_ rawValue: UInt32) { self.rawValue = rawValue }

    public static let local = NodeID(0)
    public var isLocal: Bool { rawValue == 0 }
    /// The number, as messages have always written it ("agent 3").
    public var description: String { "\(rawValue)" }

    public static func < (a: NodeID, b: NodeID) -> Bool { a.rawValue < b.rawValue }

    /// The agent a message names, if `n` may be one (not 0: that is the coordinator's own copy).
    init?(agent n: UInt32) {
        guard n > 0 else { return nil }
        rawValue = n
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        guard let n = try? c.decode(UInt32.self), let agent = NodeID(agent: n) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "must be an agent number from 1 to \(UInt32.max)")
        }
        self = agent
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}
