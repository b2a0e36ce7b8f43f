/// An agent's answer to `POST /v1/jobs` (attached) and `DELETE /v1/jobs/{job}` (detached).
public struct AttachAnswer: ControlMessage, Hashable {
    public static let messageName = "attach answer"

    public var job: String
    public var attached: Bool

    public init(job: String, attached: Bool) {
        self.job = job
        self.attached = attached
    }
}
