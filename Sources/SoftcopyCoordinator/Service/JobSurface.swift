import Synchronization
import SoftcopyCore
import SoftcopyHTTP

/// What a running job shows the service's HTTP server, published by the job's run: its
/// status document and metrics (built on NIO's threads from what the run shares), the API
/// its agents pull from, and the progress figures its main loop last computed. Empty until
/// the run has set up, and left as it was when the run ends (the dashboard shows the end).
final class JobSurface: Sendable {
    /// The progress line's figures, for the dashboard.
    struct Figures: Sendable {
        var stage: String
        var bytesPerSecond: Double
        var elapsedSeconds: Double
        /// Only once the end is known (the acquisition ended, or `--once`).
        var etaSeconds: Double?
        var retries: Int
    }

    let figures = Mutex<Figures?>(nil)
    let status = Mutex<(@Sendable () -> JSONValue)?>(nil)
    let metrics = Mutex<(@Sendable () -> [MetricFamily])?>(nil)
    let api = Mutex<CoordinatorAPI?>(nil)
    /// The status document and metrics as they were when the run ended: its engine is gone then.
    let final = Mutex<JSONValue?>(nil)
    let finalMetrics = Mutex<[MetricFamily]>([])

    func publish(status: @escaping @Sendable () -> JSONValue, metrics: @escaping @Sendable () -> [MetricFamily]) {
        self.status.withLock { $0 = status }
        self.metrics.withLock { $0 = metrics }
    }

    /// Keeps the last document and stops asking the run (before its engine shuts down).
    func freeze() {
        let last = status.withLock { $0 }?()
        final.withLock { $0 = last }
        let lastMetrics = metrics.withLock { $0 }?() ?? []
        finalMetrics.withLock { $0 = lastMetrics }
        status.withLock { $0 = nil }
        metrics.withLock { $0 = nil }
        api.withLock { $0 = nil }
    }

    /// The job's metric families: live while it runs, the last ones after (the counters of
    /// an ended job stay what they were at its end).
    var metricFamilies: [MetricFamily] {
        if let live = metrics.withLock({ $0 }) { return live() }
        return finalMetrics.withLock { $0 }
    }

    /// The job's document: live while it runs, the last one after.
    var document: JSONValue? {
        if let live = status.withLock({ $0 }) { return live() }
        return final.withLock { $0 }
    }
}
