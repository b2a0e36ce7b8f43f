import CSoftcopyShims
import Glibc

/// Linux IO priority classes for the calling thread (ioprio_set). The kernel honours them
/// only under the bfq and mq-deadline schedulers; on `none` a rate cap is what protects
/// the acquisition (docs/performance.md).
public enum IOPriority: String, Sendable, CaseIterable {
    /// Reads only when the disk is otherwise idle: the acquisition's writes come first.
    case idle
    /// The lowest level of the normal class.
    case low = "best-effort-low"
    /// Leave the thread's priority alone.
    case normal

    /// Applies the class to the calling thread. Failure is not fatal (containers may
    /// forbid it), so it returns the error for the log instead of throwing.
    @discardableResult
    public func applyToCurrentThread() -> SystemError? {
        let result: Int32
        switch self {
        case .idle: result = softcopy_set_thread_io_priority(3, 0)
        case .low: result = softcopy_set_thread_io_priority(2, 7)
        case .normal: return nil
        }
        return result == 0 ? nil : SystemError("ioprio_set")
    }

    /// The calling thread's class (1 realtime, 2 best-effort, 3 idle, 0 none set).
    public static func currentThreadClass() -> Int32 {
        let value = softcopy_get_thread_io_priority()
        return value < 0 ? -1 : value >> 13
    }
}
