import Glibc
import Logging
public import SoftcopyCore
import SoftcopyIO

/// A coordinator: watches every target's source, copies what is ready, and after each
/// acquisition's end rescans, drains, verifies and writes the manifest. `run` blocks the
/// calling thread, which is the run's own (`CoordinatorRun`), and returns the exit status;
/// `endAcquisition` and `interrupt` may be called from any thread.
public final class Coordinator: Sendable {
    let configuration: CoordinatorConfiguration
    let controls: RunControls

    public init(configuration: CoordinatorConfiguration) {
        self.configuration = configuration
        let interactive: Bool
        switch configuration.progress {
        case .auto: interactive = Terminal.isInteractive
        case .always: interactive = true
        case .never: interactive = false
        }
        let console = ConsoleOutput(interactive: interactive)
        let level: Logger.Level = configuration.verbose ? .debug : .info
        let logger = Logger(label: "softcopy") { _ in ConsoleLogHandler(output: console, level: level) }
        self.controls = RunControls(console: console, logger: logger)
    }

    public func run() -> ExitStatus {
        CoordinatorRun(configuration: configuration, controls: controls).run()
    }

    /// What SIGUSR1 does: the operator ends the acquisition; the run finishes and verifies.
    public func endAcquisition() {
        controls.handle(signal: SIGUSR1)
    }

    /// What a first SIGINT does: stop after the transfers under way (resumable).
    public func interrupt() {
        controls.interrupt()
    }
}
