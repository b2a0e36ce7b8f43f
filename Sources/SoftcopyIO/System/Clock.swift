import Glibc
public import SoftcopyCore

/// The clocks the shell reads and passes to the core.
public enum Clock {
    public static func now() -> MonotonicInstant {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return MonotonicInstant(nanoseconds: Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec))
    }

    /// The wall clock as ISO 8601 UTC ("2026-11-21T15:37:02Z"), for manifests and logs.
    public static func wallTimestamp() -> String {
        utcNow("%Y-%m-%dT%H:%M:%SZ")
    }

    /// The wall clock as a mail's Date header wants it ("Sun, 06 Dec 2026 23:50:00 +0000";
    /// strftime's names are the C locale's, which is English).
    public static func mailDate() -> String {
        utcNow("%a, %d %b %Y %H:%M:%S +0000")
    }

    /// Today's date where the coordinator runs (YYYY-MM-DD, local time), for `{date}`.
    public static func localDate() -> String {
        format("%Y-%m-%d", local: true)
    }

    private static func utcNow(_ format: String) -> String {
        Self.format(format, local: false)
    }

    private static func format(_ format: String, local: Bool) -> String {
        var t = time(nil)
        var parts = tm()
        if local { localtime_r(&t, &parts) } else { gmtime_r(&t, &parts) }
        var buffer = [CChar](repeating: 0, count: 64)
        let n = strftime(&buffer, buffer.count, format, &parts)
        return String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The wall clock as Unix time in nanoseconds, for journals.
    public static func wallNanoseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// Sleeps the calling thread (worker threads only; never a concurrency-pool thread).
    public static func sleep(_ duration: Duration) {
        let ns = duration.totalNanoseconds
        guard ns > 0 else { return }
        var request = timespec(tv_sec: Int(ns / 1_000_000_000), tv_nsec: Int(ns % 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) == -1, errno == EINTR {
            request = remaining
        }
    }

    public static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "unknown" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
