import Logging
import SoftcopyIO

/// A swift-log handler that writes one line per message to the console, keeping the
/// progress line intact: `2026-11-21T15:37:02Z warning: message key=value`.
struct ConsoleLogHandler: LogHandler {
    let output: ConsoleOutput
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    init(output: ConsoleOutput, level: Logger.Level) {
        self.output = output
        self.logLevel = level
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        let suffix = merged.isEmpty ? "" : " " + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        output.line("\(Clock.wallTimestamp()) \(event.level): \(event.message)\(suffix)")
    }
}
