import ArgumentParser
import SoftcopyCoordinator
import SoftcopyCore
import SoftcopyIO

/// `softcopy-coordinator [OPTIONS] TARGETS_FILE` or `softcopy-coordinator [OPTIONS] SOURCE DESTINATION`.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "softcopy-coordinator",
        abstract: "Copy zarr archives while they are being written: byte for byte, verified, resumable.",
        discussion: """
            TARGETS_FILE is softcopy's targets.yaml (a 'targets:' list of source/destination pairs, plus \
            the keys in docs/configuration.md). With two paths, SOURCE is copied to DESTINATION.

            The acquisition ends when a file named 'complete' appears in the source, when --writer-pid \
            exits, or on SIGUSR1; then softcopy rescans, copies metadata last, verifies every file and \
            writes DESTINATION/.softcopy/manifest.json. SIGINT/SIGTERM stop early; run again to resume.

            'softcopy-coordinator verify TARGETS_FILE' re-checks finished copies: it hashes every source \
            file and has every node (the local destination, each agent named or found through Avahi) \
            re-hash its copy, and exits 0 only if every file is there with its exact bytes, as many \
            times as 'replicas' asks. When the source is gone (or with --against-manifest) the copy is \
            checked against its manifest: each file's size and XXH3-128 as the run verified them.

            Exit status: 0 verified; 1 incomplete (each missing or failed file is named); 2 usage or \
            configuration error; 3 interrupted (resumable); 4 verified, but the source holds a crashed \
            writer's temp files.
            """,
        version: SoftcopyVersion.string)

    @Argument(help: ArgumentHelp("A targets file, or SOURCE and DESTINATION.", valueName: "TARGETS_FILE | SOURCE DESTINATION"))
    var paths: [String]

    @Flag(help: "The source is finished: copy, verify and exit.")
    var once = false

    @Option(help: ArgumentHelp("The acquisition ends when this process exits.", valueName: "PID"))
    var writerPid: Int32?

    @Option(help: ArgumentHelp("No change at the source for this long ends the acquisition, once a rescan confirms it (seconds, or 30s, 10m).", valueName: "SECONDS"))
    var idleTimeout: String?

    @Flag(help: "Wait for a missing source to appear instead of failing.")
    var waitForSource = false

    @Option(help: ArgumentHelp("Cap on bytes read from the sources per second (e.g. 200M, 1.5GiB), or a daily timetable such as '08:00,200M 20:00,off'; changed while running by PUT /v1/max_rate or SIGHUP.", valueName: "RATE"))
    var maxRate: String?

    @Flag(help: "Print debug information.")
    var verbose = false

    @Option(help: ArgumentHelp("Copy workers (default 8).", valueName: "N"))
    var nprocs: Int?

    @Option(help: ArgumentHelp("Pause per worker after each file (softcopy's option).", valueName: "SECONDS"))
    var sleepTime: String?

    @Option(help: ArgumentHelp("How the writer puts files in place: auto, atomic or in-place.", valueName: "MODE"))
    var writer: String?

    @Option(help: ArgumentHelp("In-place writers: copy a file only after this long without a change (default 2).", valueName: "SECONDS"))
    var quietPeriod: String?

    @Option(help: ArgumentHelp("While live, a chunk written several times in a burst waits up to this long after each write, so it is read about once (default 0.3; 0: every version at once).", valueName: "SECONDS"))
    var rewriteHold: String?

    @Option(help: ArgumentHelp("Compress chunks on their way to agents: auto (raw chunks over a link slower than 300 MB/s), never or always.", valueName: "MODE"))
    var wireCompression: String?

    @Option(help: ArgumentHelp("Poll the source every interval instead of using inotify (network filesystems).", valueName: "SECONDS"))
    var poll: String?

    @Option(help: ArgumentHelp("When deletions at the source reach the destination: at-end, live or never.", valueName: "POLICY"))
    var deletions: String?

    @Flag(help: "At the end, re-read and re-hash every destination file (each is already verified when it lands).")
    var verifyFull = false

    @Option(help: ArgumentHelp("IO priority of source reads: idle, best-effort-low or normal (default idle).", valueName: "CLASS"))
    var ioPriority: String = IOPriority.idle.rawValue

    @Flag(help: "In local mode, write chunks through the page cache, not with O_DIRECT (then the check where a chunk lands reads the cache, not the disk).")
    var noDirectIO = false

    @Option(help: ArgumentHelp("The live progress line: auto (on a terminal), always or never.", valueName: "WHEN"))
    var progress: String = CoordinatorConfiguration.ProgressMode.auto.rawValue

    @Option(name: .customLong("agent"), help: ArgumentHelp("An agent that pulls the work (repeatable): http://HOST:PORT. With none, the coordinator copies locally.", valueName: "URL"))
    var agents: [String] = []

    @Option(help: ArgumentHelp("Where the API for agents listens (default 0.0.0.0:7480).", valueName: "HOST:PORT"))
    var listen: String?

    @Option(help: ArgumentHelp("The URL agents reach this coordinator at (default: the address used to reach each agent).", valueName: "URL"))
    var advertiseUrl: String?

    @Option(help: ArgumentHelp("A file holding the token shared with the agents.", valueName: "FILE"))
    var tokenFile: String?

    @Option(help: ArgumentHelp("Work leased by an agent that says nothing for this long goes to another (default 30s).", valueName: "SECONDS"))
    var leaseTimeout: String?

    @Option(help: ArgumentHelp("Serve the API for agents over HTTPS with this PEM certificate chain (with --tls-key).", valueName: "FILE"))
    var tlsCert: String?

    @Option(help: ArgumentHelp("The PEM private key of --tls-cert.", valueName: "FILE"))
    var tlsKey: String?

    @Option(help: ArgumentHelp("PEM CA certificates that agents' HTTPS certificates must chain to (default: the system's).", valueName: "FILE"))
    var tlsCa: String?

    @Option(help: ArgumentHelp("A file whose copy keeps failing this long is reported as failed instead of retried (default 10m; 0 retries while the acquisition runs).", valueName: "SECONDS"))
    var retryDeadline: String?

    @Flag(help: "Do not look for agents through Avahi (_softcopy._tcp); only --agent and the targets file's agents are used.")
    var noDiscovery = false

    @Option(help: ArgumentHelp("Look for agents this long at the start; with none found, copy locally (default 3s).", valueName: "SECONDS"))
    var discoveryWait: String?

    @Option(help: ArgumentHelp("How chunks spread over agents: balanced, locality or shared (default balanced).", valueName: "POLICY"))
    var placement: String?

    @Option(help: ArgumentHelp("Copies of every chunk, each on a different agent (default 1).", valueName: "N"))
    var replicas: Int?

    @Flag(help: "verify only: remove the superseded copies it finds (copies of files on nodes the manifest does not name for them).")
    var repair = false

    @Flag(help: "verify only: check the copy against its manifest (each file's size and XXH3-128), not the source; the default when the source is gone.")
    var againstManifest = false

    @Flag(help: "The destination may hold the copy of another source: replace it (refused otherwise).")
    var replace = false

    @Option(help: ArgumentHelp("Symbolic links in the source: inside (default: copy those that stay inside the archive, a problem otherwise), follow (copy what every link points to) or skip (leave them out, listed).", valueName: "POLICY"))
    var symlinks: String?

    @Option(help: ArgumentHelp("Remove the source's files once their copy is verified: never (default), after-verify (when the end verdict is OK for the whole target) or live (each chunk as soon as it is verified on every node that should hold it).", valueName: "WHEN"))
    var removeSource: String?

    @Option(help: ArgumentHelp("Checksum lists to write beside the manifest besides xxh128sums, comma-separated: sha256, md5 (for sha256sum -c and md5sum -c; computed as the files are read).", valueName: "LIST"))
    var checksums: String?

    @Option(help: ArgumentHelp("Where the job history is kept (history.sqlite; default $STATE_DIRECTORY, else ~/.local/state/softcopy).", valueName: "DIR"))
    var stateDir: String?

    @Flag(help: "With --remove-source (or remove_source:): print what would be removed from the source, and remove nothing.")
    var dryRun = false

    mutating func validate() throws {
        guard paths.count == 1 || paths.count == 2 else {
            throw ValidationError("give a targets file, or a source and a destination (got \(paths.count) paths)")
        }
        if let nprocs, !(1...1024).contains(nprocs) { throw ValidationError("--nprocs must be from 1 to 1024") }
        if let replicas, !(1...16).contains(replicas) { throw ValidationError("--replicas must be from 1 to 16") }
    }

    func configuration() throws -> CoordinatorConfiguration {
        var settings = CoordinatorSettings()
        var targets: [TargetSpec]
        var watches: [WatchSpec] = []
        var targetsFile: String?
        if paths.count == 1 {
            let file = try TargetsFileLoader.load(paths[0])
            targets = file.targets
            watches = file.watches
            settings = file.settings
            targetsFile = paths[0]
        } else {
            let cwd = ProcessEnvironment.currentDirectory()
            let source = PathNormalizer.absolute(paths[0], base: cwd, home: nil)
            let destination = PathNormalizer.absolute(paths[1], base: cwd, home: nil)
            guard !PathNormalizer.isSameOrInside(destination, source), !PathNormalizer.isSameOrInside(source, destination) else {
                throw ValidationError("the source \(source) and the destination \(destination) overlap")
            }
            var spec = TargetSpec(source: source, destination: destination)
            spec.agentDestination = paths[1]
            targets = [spec]
        }
        var overrides = CoordinatorSettings()
        overrides.nprocs = nprocs
        overrides.sleepTime = try sleepTime.map { try Self.duration($0, "--sleep-time", allowZero: true) }
        overrides.maxRate = try maxRate.map { text in
            do throws(ConfigMessage) {
                return try RateSchedule(parsing: text)
            } catch {
                throw ValidationError("--max-rate: \(error.text)")
            }
        }
        overrides.idleTimeout = try idleTimeout.map { try Self.duration($0, "--idle-timeout", allowZero: false) }
        overrides.waitForSource = waitForSource ? true : nil
        overrides.writer = try writer.map { try Self.choice($0, "--writer", WriterMode.self) }
        overrides.quietPeriod = try quietPeriod.map { try Self.duration($0, "--quiet-period", allowZero: true) }
        overrides.rewriteHold = try rewriteHold.map { try Self.duration($0, "--rewrite-hold", allowZero: true) }
        overrides.wireCompression = try wireCompression.map { try Self.choice($0, "--wire-compression", WireCompression.self) }
        overrides.pollInterval = try poll.map { try Self.duration($0, "--poll", allowZero: false) }
        overrides.deletions = try deletions.map { try Self.choice($0, "--deletions", DeletionPolicy.self) }
        if !agents.isEmpty {
            overrides.agents = try agents.map { text in
                guard let url = AgentAddress.normalizedURL(text) else { throw ValidationError("--agent must be a URL such as http://store1:7481, found '\(text)'") }
                return url
            }
        }
        overrides.listen = try listen.map { text in
            guard AgentAddress.hostAndPort(text) != nil else { throw ValidationError("--listen must be HOST:PORT such as 0.0.0.0:7480, found '\(text)'") }
            return text
        }
        overrides.advertiseURL = try advertiseUrl.map { text in
            guard let url = AgentAddress.normalizedURL(text) else { throw ValidationError("--advertise-url must be a URL such as http://acq-pc:7480, found '\(text)'") }
            return url
        }
        let absolute = { (path: String) in PathNormalizer.absolute(path, base: ProcessEnvironment.currentDirectory(), home: nil) }
        overrides.tokenFile = tokenFile.map(absolute)
        overrides.leaseTimeout = try leaseTimeout.map { try Self.duration($0, "--lease-timeout", allowZero: false) }
        overrides.tlsCertificate = tlsCert.map(absolute)
        overrides.tlsKey = tlsKey.map(absolute)
        overrides.tlsCA = tlsCa.map(absolute)
        overrides.stateDirectory = stateDir.map(absolute)
        overrides.retryDeadline = try retryDeadline.map { try Self.duration($0, "--retry-deadline", allowZero: true) }
        overrides.discovery = noDiscovery ? false : nil
        overrides.discoveryWait = try discoveryWait.map { try Self.duration($0, "--discovery-wait", allowZero: true) }
        overrides.placement = try placement.map { try Self.choice($0, "--placement", PlacementKind.self) }
        overrides.replicas = replicas
        overrides.replace = replace ? true : nil
        overrides.symlinks = try symlinks.map { try Self.choice($0, "--symlinks", SymlinkPolicy.self) }
        overrides.removeSource = try removeSource.map { try Self.choice($0, "--remove-source", SourceRemovalMode.self) }
        overrides.checksums = try checksums.map { list in
            Set(try list.split(separator: ",").map { try Self.choice(String($0).trimmingWhitespace(), "--checksums", ChecksumAlgorithm.self) })
        }

        // The command line wins over the targets' (and watch entries') own keys too.
        let override = { (spec: inout TargetSpec) in
            if let p = overrides.placement { spec.placement = p }
            if let r = overrides.replicas { spec.replicas = r }
            if let r = overrides.replace { spec.replace = r }
            if let s = overrides.symlinks { spec.symlinks = s }
            if let r = overrides.removeSource { spec.removeSource = r }
        }
        for i in targets.indices { override(&targets[i]) }
        for i in watches.indices { override(&watches[i].options) }
        if !watches.isEmpty, writerPid != nil {
            throw ValidationError("--writer-pid applies to one acquisition; a targets file with 'watch:' copies every archive of its folders (each ends with its 'complete' file or idle_timeout)")
        }
        let merged = settings.merging(overrides)
        if (merged.tlsCertificate == nil) != (merged.tlsKey == nil) {
            throw ValidationError("--tls-cert and --tls-key go together (or tls_cert and tls_key in the targets file): give both, or neither")
        }
        if (merged.replicas ?? 1) > 1, merged.placement == .shared || (targets + watches.map(\.options)).contains(where: { $0.placement == .shared }) {
            throw ValidationError("replicas need separate filesystems, but placement 'shared' has one filesystem for every agent")
        }
        var configuration = CoordinatorConfiguration(targets: targets, targetsFile: targetsFile, settings: merged)
        configuration.watches = watches
        configuration.once = once
        configuration.writerPID = writerPid
        configuration.verifyFull = verifyFull
        configuration.verbose = verbose
        configuration.repair = repair
        configuration.againstManifest = againstManifest
        configuration.dryRun = dryRun
        configuration.ioPriority = try Self.choice(ioPriority, "--io-priority", IOPriority.self)
        configuration.directIO = !noDirectIO
        configuration.progress = try Self.choice(progress, "--progress", CoordinatorConfiguration.ProgressMode.self)
        return configuration
    }

    static func duration(_ text: String, _ option: String, allowZero: Bool) throws -> Duration {
        guard let d = Quantity.duration(text), allowZero || d > .zero else {
            throw ValidationError("\(option) must be a duration such as 2, 0.5, 500ms or 10m\(allowZero ? "" : " (above zero)"), found '\(text)'")
        }
        return d
    }

    static func choice<T: RawRepresentable & CaseIterable>(_ text: String, _ option: String, _ type: T.Type) throws -> T where T.RawValue == String {
        guard let value = T(rawValue: text) else {
            throw ValidationError("\(option) must be one of \(T.allCases.map(\.rawValue).joined(separator: ", ")), found '\(text)'")
        }
        return value
    }
}
