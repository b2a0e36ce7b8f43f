/// An agent's answer to `POST /v1/jobs` (attached) and `DELETE /v1/jobs/{job}` (detached).
public struct AttachAnswer: ControlMessage, Hashable {
    public static let messageName = "attach answer"

    public var job: String
    public var attached: Bool
    /// Where each target's copy is on the agent (its real path), so that what the
    /// manifest stored there says is true there. Absent from an agent before this field.
    public var destinations: [Destination]?

    public struct Destination: Codable, Sendable, Hashable {
        public var lane: LaneID
        public var path: String

        public init(lane: LaneID, path: String) {
            self.lane = lane
            self.path = path
        }

        enum CodingKeys: String, CodingKey {
            case lane = "target", path
        }
    }

    public init(job: String, attached: Bool, destinations: [Destination]? = nil) {
        self.job = job
        self.attached = attached
        self.destinations = destinations
    }
}
