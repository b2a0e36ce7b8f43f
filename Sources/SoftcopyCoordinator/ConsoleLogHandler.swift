import Logging
import SoftcopyIO

/// A swift-log handler that writes one line per message to the console, keeping the
/// progress line intact: `2026-11-21T15:37:02Z warning: message key=value`. A job's
/// logger also keeps each line in the job's event log (its dashboard page), and in a
/// service of several jobs starts each line with the job's archive.
struct ConsoleLogHandler: LogHandler {
    let output: ConsoleOutput
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    let events: JobEvents?
    let prefix: String

    init(output: ConsoleOutput, level: Logger.Level, events: JobEvents? = nil, prefix: String = "") {
        self.output = output
        self.logLevel = level
        self.events = events
        self.prefix = prefix
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        let suffix = merged.isEmpty ? "" : " " + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let time = Clock.wallTimestamp()
        output.line("\(time) \(event.level): \(prefix)\(event.message)\(suffix)")
        events?.append(time: time, level: "\(event.level)", message: "\(event.message)\(suffix)")
    }
}
