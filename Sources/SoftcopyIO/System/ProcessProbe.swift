import Glibc

/// Whether a process (the acquisition's writer, for --writer-pid) is still running.
public enum ProcessProbe {
    /// True while `pid` exists and is not a zombie (an exited child not yet reaped by its
    /// parent still answers kill(pid, 0), but it has finished writing).
    public static func isRunning(_ pid: Int32) -> Bool {
        guard pid > 0 else { return false }
        if kill(pid, 0) != 0, errno == ESRCH { return false }
        guard let stat = try? readSmallFile("/proc/\(pid)/stat", limit: 4096) else { return true }
        // The state letter follows the command name, which is wrapped in parentheses.
        let text = String(decoding: stat, as: UTF8.self)
        guard let close = text.lastIndex(of: ")") else { return true }
        let state = text[text.index(after: close)...].drop { $0 == " " }.first
        return state != "Z" && state != "X"
    }
}
