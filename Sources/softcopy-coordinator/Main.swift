import ArgumentParser
import Glibc
import Logging
import SoftcopyCoordinator
import SoftcopyCore
import SoftcopyIO

@main
enum Main {
    static func main() {
        var arguments = compatibleArguments(Array(CommandLine.arguments.dropFirst()))
        // `verify TARGETS_FILE`: re-check finished copies with the same options as a run.
        let verify = arguments.first == "verify"
        if verify { arguments.removeFirst() }
        let command: RunCommand
        let configuration: CoordinatorConfiguration
        do {
            command = try RunCommand.parse(arguments)
            configuration = try command.configuration()
            if configuration.repair, !verify {
                throw ValidationError("--repair goes with verify: softcopy-coordinator verify --repair TARGETS_FILE")
            }
            if configuration.againstManifest, !verify {
                throw ValidationError("--against-manifest goes with verify: softcopy-coordinator verify --against-manifest TARGETS_FILE")
            }
        } catch let error as ConfigError {
            Terminal.write("error: \(error)\n")
            exit(ExitStatus.usage.rawValue)
        } catch {
            // --help and --version are "errors" with a success exit code.
            if RunCommand.exitCode(for: error) == .success {
                RunCommand.exit(withError: error)
            }
            Terminal.write(RunCommand.fullMessage(for: error) + "\n")
            exit(ExitStatus.usage.rawValue)
        }
        ProcessEnvironment.raiseOpenFileLimit()
        if verify {
            guard !configuration.targets.isEmpty else {
                Terminal.write("error: verify checks the archives of 'targets:'; a watched folder's copies are in the history (GET /v1/status), and each can be listed as a target to verify it\n")
                exit(ExitStatus.usage.rawValue)
            }
            exit(CopyVerifier(configuration: configuration).run().rawValue)
        }
        let service = CoordinatorService(for: configuration)
        if configuration.watches.isEmpty {
            // The targets file is one job; the service ends when it does. SIGHUP reads
            // the file again for its max_rate.
            service.onReload { [logger = service.logger] in
                do {
                    let reloaded = try command.configuration()
                    service.setMaxRate(reloaded.settings.maxRate ?? .unlimited)
                    logger.notice("reloaded: max_rate applies at once; other changes apply at the next start")
                } catch {
                    logger.error("SIGHUP: the targets file was not reloaded, the run goes on as it was: \(error)")
                }
            }
            do {
                try service.start(configuration)
            } catch {
                Terminal.write("error: \(error)\n")
                exit(ExitStatus.interrupted.rawValue)
            }
            exit((service.run(.untilJobsEnd) ?? .interrupted).rawValue)
        }
        exit(runWatchService(service, command: command, configuration: configuration).rawValue)
    }

    /// `watch:`: a service until stopped. The targets (if any) are one job, each archive of
    /// a watched folder another; SIGHUP reads the targets file again.
    static func runWatchService(_ service: CoordinatorService, command: RunCommand, configuration: CoordinatorConfiguration) -> ExitStatus {
        do {
            try service.serve(configuration.settings)
        } catch {
            Terminal.write("error: \(error)\n")
            return .usage
        }
        if !configuration.targets.isEmpty {
            var targets = configuration
            targets.watches = []
            _ = try? service.start(targets)
        }
        let folders = WatchedFolders(service: service, base: configuration)
        service.onReload { [logger = service.logger] in
            do {
                let reloaded = try command.configuration()
                folders.update(reloaded)
                service.setMaxRate(reloaded.settings.maxRate ?? .unlimited)
                logger.notice("reloaded: \(reloaded.watches.count) watched folder\(reloaded.watches.count == 1 ? "" : "s") and max_rate; changes to targets, listen, token and TLS apply at the next start")
            } catch {
                logger.error("SIGHUP: the targets file was not reloaded, the service goes on as it was: \(error)")
            }
        }
        folders.start()
        let status = service.run(.untilShutdown) ?? .interrupted
        folders.stop()
        return status
    }

    /// softcopy took `--wait-for-source BOOLEAN`; accept that spelling as well as the flag.
    static func compatibleArguments(_ arguments: [String]) -> [String] {
        var result: [String] = []
        var i = 0
        while i < arguments.count {
            let argument = arguments[i]
            if argument == "--wait-for-source", i + 1 < arguments.count {
                switch arguments[i + 1].lowercased() {
                case "true", "yes", "1":
                    result.append(argument)
                    i += 2
                    continue
                case "false", "no", "0":
                    i += 2
                    continue
                default:
                    break
                }
            }
            result.append(argument)
            i += 1
        }
        return result
    }
}
