import CSoftcopyShims
import Glibc

/// The standard error stream: where the progress line and the summary go.
public enum Terminal {
    public static var isInteractive: Bool { isatty(2) == 1 }

    public static var width: Int {
        let columns = Int(softcopy_terminal_width(2))
        return columns > 20 ? columns : 100
    }

    /// Writes text to standard error unbuffered (log lines and the progress line share it).
    public static func write(_ text: String) {
        var bytes = Array(text.utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.write(2, $0.baseAddress! + done, $0.count - done) }
            if n <= 0 {
                if errno == EINTR { continue }
                return
            }
            done += n
        }
    }
}
