import Synchronization
import SoftcopyCore

/// A job's event log for its dashboard page: the newest `capacity` log lines (time, level,
/// message), kept in memory while the process runs. The full log is the console's
/// (journalctl under systemd).
final class JobEvents: Sendable {
    struct Event: Sendable {
        var time: String
        var level: String
        var message: String
    }

    static let capacity = 500
    private let events = Mutex<(list: [Event], dropped: Int)>(([], 0))

    func append(time: String, level: String, message: String) {
        events.withLock { e in
            if e.list.count >= Self.capacity {
                e.list.removeFirst(Self.capacity / 10)
                e.dropped += Self.capacity / 10
            }
            e.list.append(Event(time: time, level: level, message: message))
        }
    }

    /// The events, oldest first, and how many older ones were let go.
    var json: JSONValue {
        events.withLock { e in
            .object([
                ("dropped", .integer(e.dropped)),
                ("events", .array(e.list.map { .object([("time", .string($0.time)), ("level", .string($0.level)), ("message", .string($0.message))]) })),
            ])
        }
    }

    /// The last warnings and errors, newest last: a dashboard's "last problems".
    func problems(limit: Int) -> [JSONValue] {
        events.withLock { e in
            e.list.filter { $0.level == "warning" || $0.level == "error" || $0.level == "critical" }.suffix(limit)
                .map { .object([("time", .string($0.time)), ("level", .string($0.level)), ("message", .string($0.message))]) }
        }
    }
}
