/// `notify:`: whom to tell when a copy ends, one message per archive, never per file
/// (docs/operations.md, "Notifications").
public struct NotificationSettings: Sendable, Hashable {
    public enum When: String, Sendable, CaseIterable {
        /// The copy is verified (exit 0, or 4 with a crashed writer's temp files named).
        case done
        /// It is not (incomplete, stopped by the placement, or a configuration error).
        case failed
        case both
    }

    /// A URL the summary is POSTed to, as JSON.
    public var webhook: String?
    /// A shell command run with the summary in `SOFTCOPY_*` environment variables.
    public var command: String?
    public var on: When = .both

    public init(webhook: String? = nil, command: String? = nil, on: When = .both) {
        self.webhook = webhook
        self.command = command
        self.on = on
    }

    /// Whether an end that `succeeded` (or not) is told.
    public func tells(succeeded: Bool) -> Bool {
        switch on {
        case .both: true
        case .done: succeeded
        case .failed: !succeeded
        }
    }

    public static let keys = ["webhook", "command", "on"]
}
