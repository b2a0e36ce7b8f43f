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
    /// A mail through an SMTP relay.
    public var email: Email?
    public var on: When = .both

    public struct Email: Sendable, Hashable {
        /// `smtp://host[:port]` or `smtps://…`.
        public var server: String
        public var from: String
        public var to: [String]

        public init(server: String, from: String, to: [String]) {
            self.server = server
            self.from = from
            self.to = to
        }

        public static let keys = ["smtp", "from", "to"]
    }

    public init(webhook: String? = nil, command: String? = nil, email: Email? = nil, on: When = .both) {
        self.webhook = webhook
        self.command = command
        self.email = email
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

    public static let keys = ["webhook", "command", "email", "on"]
}
