/// An agent asks the coordinator for work: `POST /v1/jobs/{job}/lease`.
public struct LeaseRequest: ControlMessage, Hashable {
    public static let messageName = "lease request"

    /// The number the coordinator gave this agent when it attached the job.
    public var agent: NodeID
    public var maxItems: Int
    public var maxBytes: UInt64
    /// How long the coordinator may hold the request open while nothing is ready.
    public var waitMilliseconds: Int

    public static let maximumItems = 1024
    public static let maximumWaitMilliseconds = 60_000

    public init(agent: NodeID, maxItems: Int, maxBytes: UInt64, waitMilliseconds: Int) {
        self.agent = agent
        self.maxItems = maxItems
        self.maxBytes = maxBytes
        self.waitMilliseconds = waitMilliseconds
    }

    enum CodingKeys: String, CodingKey {
        case agent, maxItems = "max_items", maxBytes = "max_bytes", waitMilliseconds = "wait_ms"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        agent = try c.decode(NodeID.self, forKey: .agent)
        let items = try? c.decode(Int.self, forKey: .maxItems)
        guard let items, (1...Self.maximumItems).contains(items) else {
            throw DecodingError.dataCorruptedError(forKey: .maxItems, in: c, debugDescription: "must be from 1 to \(Self.maximumItems)")
        }
        maxItems = items
        maxBytes = try c.decodeIfPresent(UInt64.self, forKey: .maxBytes) ?? .max
        let wait = try c.decodeIfPresent(UInt64.self, forKey: .waitMilliseconds) ?? 0
        waitMilliseconds = Int(min(wait, UInt64(Self.maximumWaitMilliseconds)))
    }
}
