/// One copy of one target: a target with `replicas: N` has N lanes, each placed on its own
/// nodes. Lanes are numbered across the job; this is what the wire calls "target" in
/// leases, acks, bundles and attachments (each lane is a target to an agent).
public struct LaneID: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var rawValue: Int

    public init(_ rawValue: Int) { self.rawValue = rawValue }

    public var description: String { "\(rawValue)" }

    public static func < (a: LaneID, b: LaneID) -> Bool { a.rawValue < b.rawValue }

    /// Bounded, so a hostile number cannot size anything.
    public static let limit = 1 << 20

    /// The lane a message names, if `n` may be one.
    init?(wire n: Int) {
        guard n >= 0, n < Self.limit else { return nil }
        rawValue = n
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        guard let n = try? c.decode(Int.self), let lane = LaneID(wire: n) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "must be a target number from 0 to \(Self.limit - 1)")
        }
        self = lane
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}
