public import SoftcopyCoordinator
public import SoftcopyCore
import SoftcopyIO

/// A real coordinator job inside the test process, in a `CoordinatorService` of its own
/// (or one the test shares between jobs): no signals, no Avahi, its API for agents on a
/// loopback port of its own.
public final class InProcessRun: Sendable {
    public let service: CoordinatorService
    public let job: Job

    /// A configuration for `source` -> `destination` (a local path, or the folder under
    /// each agent's root), with the run's options set for a test.
    public static func configuration(source: String, destination: String, agents: [InProcessAgent] = [], once: Bool = true,
                                     _ adjust: (inout CoordinatorSettings, inout TargetSpec) -> Void = { _, _ in }) -> CoordinatorConfiguration {
        var spec = TargetSpec(source: source, destination: destination)
        spec.agentDestination = destination
        var settings = CoordinatorSettings()
        settings.discovery = false
        settings.listen = "127.0.0.1:0"
        settings.quietPeriod = .milliseconds(200)
        settings.nprocs = 2
        if !agents.isEmpty { settings.agents = agents.map(\.url) }
        adjust(&settings, &spec)
        var configuration = CoordinatorConfiguration(targets: [spec], targetsFile: nil, settings: settings)
        configuration.once = once
        configuration.progress = .never
        configuration.leftoverGrace = .milliseconds(300)
        return configuration
    }

    /// A service for a test: quiet, and without the process's signals.
    public static func service() -> CoordinatorService {
        CoordinatorService(progress: .never, verbose: false, handlesSignals: false)
    }

    /// Starts a job for `configuration` in `service`.
    public init(_ configuration: CoordinatorConfiguration, in service: CoordinatorService = InProcessRun.service()) throws {
        self.service = service
        self.job = try service.start(configuration)
    }

    /// Runs `configuration` to its end.
    public static func run(_ configuration: CoordinatorConfiguration, timeout: Duration = .seconds(30)) throws -> ExitStatus {
        try InProcessRun(configuration).wait(timeout: timeout)
    }

    /// The job's exit status once it ends; a job still going after `timeout` is
    /// interrupted and the wait fails.
    public func wait(timeout: Duration = .seconds(30)) throws -> ExitStatus {
        guard let result = job.wait(until: Clock.now() + timeout) else {
            job.interrupt()
            throw ChildProcess.Failure(description: "the coordinator job did not end within \(Quantity.formatDuration(timeout))")
        }
        return result
    }
}
