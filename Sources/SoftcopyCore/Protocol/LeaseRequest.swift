/// An agent asks the coordinator for work: `POST /v1/jobs/{job}/lease`.
public struct LeaseRequest: Sendable, Hashable {
    /// The number the coordinator gave this agent when it attached the job.
    public var agent: UInt32
    public var maxItems: Int
    public var maxBytes: UInt64
    /// How long the coordinator may hold the request open while nothing is ready.
    public var waitMilliseconds: Int

    public static let maximumItems = 1024
    public static let maximumWaitMilliseconds = 60_000

    public init(agent: UInt32, maxItems: Int, maxBytes: UInt64, waitMilliseconds: Int) {
        self.agent = agent
        self.maxItems = maxItems
        self.maxBytes = maxBytes
        self.waitMilliseconds = waitMilliseconds
    }

    public var json: JSONValue {
        .object([
            ("agent", .integer(agent)), ("max_items", .integer(maxItems)),
            ("max_bytes", .integer(maxBytes)), ("wait_ms", .integer(waitMilliseconds)),
        ])
    }

    public init(json: JSONValue) throws(ProtocolError) {
        let r = try FieldReader(json, context: "lease request")
        self.agent = try r.agentNumber()
        let items = try r.unsigned("max_items")
        guard (1...UInt64(Self.maximumItems)).contains(items) else {
            throw ProtocolError("lease request: 'max_items' must be from 1 to \(Self.maximumItems)")
        }
        self.maxItems = Int(items)
        self.maxBytes = try r.optionalUnsigned("max_bytes") ?? .max
        let wait = try r.optionalUnsigned("wait_ms") ?? 0
        self.waitMilliseconds = Int(min(wait, UInt64(Self.maximumWaitMilliseconds)))
    }
}
