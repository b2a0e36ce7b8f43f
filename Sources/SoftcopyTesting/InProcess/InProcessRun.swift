public import SoftcopyCoordinator
public import SoftcopyCore
import SoftcopyIO
import Synchronization

/// A real coordinator run inside the test process, on a thread of its own: no signals,
/// no Avahi, its API for agents on a loopback port of its own.
public final class InProcessRun: Sendable {
    public let coordinator: Coordinator
    private let completion = Completion()
    private let thread: Mutex<OSThread?> = Mutex(nil)

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
        configuration.handlesSignals = false
        configuration.progress = .never
        configuration.leftoverGrace = .milliseconds(300)
        return configuration
    }

    public init(_ configuration: CoordinatorConfiguration) {
        let coordinator = Coordinator(configuration: configuration)
        self.coordinator = coordinator
        let started = OSThread(name: "sc-test-run") { [completion] in
            completion.set(coordinator.run())
        }
        thread.withLock { $0 = started }
    }

    /// Runs `configuration` to its end.
    public static func run(_ configuration: CoordinatorConfiguration, timeout: Duration = .seconds(30)) throws -> ExitStatus {
        try InProcessRun(configuration).wait(timeout: timeout)
    }

    /// The run's exit status once it ends; a run still going after `timeout` is
    /// interrupted and the wait fails.
    public func wait(timeout: Duration = .seconds(30)) throws -> ExitStatus {
        guard let result = completion.wait(until: Clock.now() + timeout) else {
            coordinator.interrupt()
            throw ChildProcess.Failure(description: "the coordinator run did not end within \(Quantity.formatDuration(timeout))")
        }
        thread.withLock { $0 }?.join()
        return result
    }
}

/// A run's exit status, set once by its thread and awaited by the test.
private final class Completion: Sendable {
    private let status = ConditionLock<ExitStatus?>(nil)

    func set(_ value: ExitStatus) {
        status.withLock { $0 = value }
        status.broadcast()
    }

    func wait(until deadline: MonotonicInstant) -> ExitStatus? {
        status.waitFor { status in
            if let status { return .done(status) }
            return Clock.now() >= deadline ? .done(nil) : .wait(until: deadline)
        }
    }
}
