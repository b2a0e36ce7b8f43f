import Synchronization
import SoftcopyIO

/// Standard error, shared by log lines and the live progress line: a log line clears
/// the progress line, prints, and the progress line is drawn again after it.
final class ConsoleOutput: Sendable {
    private struct State {
        var progress: String?
    }

    private let state = Mutex(State())
    let interactive: Bool
    /// Without a terminal, the progress line is logged now and then instead (`--progress auto`).
    let logsProgress: Bool

    init(interactive: Bool, logsProgress: Bool = false) {
        self.interactive = interactive
        self.logsProgress = logsProgress
    }

    func line(_ text: String) {
        state.withLock { s in
            if interactive, s.progress != nil {
                Terminal.write("\r\u{1B}[K" + text + "\n" + (s.progress ?? ""))
            } else {
                Terminal.write(text + "\n")
            }
        }
    }

    /// Replaces the progress line (terminals only).
    func progress(_ text: String) {
        guard interactive else { return }
        let width = Terminal.width - 1
        let shown = text.count > width ? String(text.prefix(width)) : text
        state.withLock { s in
            s.progress = shown
            Terminal.write("\r" + shown + "\u{1B}[K")
        }
    }

    /// Removes the progress line for good (before the summary).
    func endProgress() {
        state.withLock { s in
            if interactive, s.progress != nil { Terminal.write("\r\u{1B}[K") }
            s.progress = nil
        }
    }
}
