/// Why an archive's acquisition was judged finished.
public enum EndReason: Sendable, Hashable, CustomStringConvertible {
    /// A file named `complete` appeared in the source root (softcopy's convention).
    case completeFile
    /// The process given with --writer-pid exited.
    case writerExited(pid: Int32)
    /// The operator sent SIGUSR1.
    case operatorSignal
    /// No change for the idle timeout, confirmed by a rescan. Only a hint: not confirmed
    /// by the writer, so the summary says so.
    case idleTimeout(Duration)
    /// --once: the source was finished before the run started.
    case once

    public var description: String {
        switch self {
        case .completeFile: "a 'complete' file appeared in the source"
        case .writerExited(let pid): "the writer (pid \(pid)) exited"
        case .operatorSignal: "the operator signalled the end (SIGUSR1)"
        case .idleTimeout(let d): "no change for \(Quantity.formatDuration(d)) (idle timeout; not confirmed by the writer)"
        case .once: "--once: the source was already finished"
        }
    }

    public var code: String {
        switch self {
        case .completeFile: "complete-file"
        case .writerExited: "writer-exited"
        case .operatorSignal: "operator-signal"
        case .idleTimeout: "idle-timeout"
        case .once: "once"
        }
    }
}
