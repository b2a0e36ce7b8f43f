import ArgumentParser
import Glibc
import Logging
import SoftcopyAgent
import SoftcopyCore
import SoftcopyHTTP
import SoftcopyIO

/// `softcopy-agent --root DIR`: parses, builds the agent, serves until SIGTERM or SIGINT.
struct AgentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "softcopy-agent",
        abstract: "Pull ready chunks from softcopy coordinators and write them, verified, under a data root.",
        version: SoftcopyVersion.string)

    @Option(help: ArgumentHelp("The data root: everything this agent writes lies under it.", valueName: "DIR"))
    var root: String

    @Option(help: ArgumentHelp("The port of the agent's API (default 7481; 0 picks a free one).", valueName: "N"))
    var port: Int = AgentConfiguration.defaultPort

    @Option(help: ArgumentHelp("The address to listen on (default 0.0.0.0).", valueName: "HOST"))
    var host: String = "0.0.0.0"

    @Option(help: ArgumentHelp("This node's name (default: the host name).", valueName: "NAME"))
    var name: String?

    @Option(help: ArgumentHelp("A file holding the token shared with coordinators; then every request but health must present it.", valueName: "FILE"))
    var tokenFile: String?

    @Option(help: ArgumentHelp("A file holding a token that gives read-only access to the read view (/zarr/) and nothing else.", valueName: "FILE"))
    var readTokenFile: String?

    @Option(help: ArgumentHelp("Transfers at once per job (default 4).", valueName: "N"))
    var transfers: Int = 4

    @Option(help: ArgumentHelp("Refuse chunks that would leave less than this free under the root (default 1GiB; 0: fill the disk).", valueName: "BYTES"))
    var reserve: String = "1GiB"

    @Option(help: ArgumentHelp("Remember the records of this many files in memory, about 150 bytes each, so listings need not read them back from disk (default 2000000; 0: read every time).", valueName: "FILES"))
    var rememberedRecords: Int = AgentConfiguration.defaultRememberedRecords

    @Flag(help: "Write chunks through the page cache, not with O_DIRECT.")
    var noDirectIO = false

    @Flag(help: "Do not advertise _softcopy._tcp through avahi-daemon (coordinators then need --agent URL).")
    var noAdvertise = false

    @Option(help: ArgumentHelp("Serve the API over HTTPS with this PEM certificate chain (with --tls-key).", valueName: "FILE"))
    var tlsCert: String?

    @Option(help: ArgumentHelp("The PEM private key of --tls-cert.", valueName: "FILE"))
    var tlsKey: String?

    @Option(help: ArgumentHelp("PEM CA certificates that an https coordinator's certificate must chain to (default: the system's).", valueName: "FILE"))
    var tlsCa: String?

    @Flag(help: "Write only while the data root is a mount point: storage that is not mounted yet (a NAS mounted after the agent started) takes no job.")
    var requireMount = false

    @Option(help: ArgumentHelp("Write into an S3 bucket: each key becomes the object PREFIX/DESTINATION/KEY (needs --s3-endpoint; --root then keeps only staging files and each destination's .softcopy/).", valueName: "s3://BUCKET/PREFIX"))
    var store: String?

    @Option(help: ArgumentHelp("The S3 server's base URL (http://127.0.0.1:8333, https://s3.example.org).", valueName: "URL"))
    var s3Endpoint: String?

    @Option(help: ArgumentHelp("The S3 region requests are signed for (default us-east-1).", valueName: "NAME"))
    var s3Region: String = "us-east-1"

    @Option(help: ArgumentHelp("Upload files larger than this in parts of this size (default 64MiB; at least 5MiB).", valueName: "BYTES"))
    var s3MultipartThreshold: String = "64MiB"

    @Option(help: ArgumentHelp("An AWS shared-credentials file ([default] with aws_access_key_id and aws_secret_access_key); default: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.", valueName: "FILE"))
    var s3Credentials: String?

    @Option(help: ArgumentHelp("The most this agent stores under its bucket prefix; it reports the room left for placement and takes no chunk beyond it (default: unbounded, room not reported).", valueName: "BYTES"))
    var s3Quota: String?

    @Flag(help: "Log every request refused and every transfer retried.")
    var verbose = false

    mutating func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be from 0 to 65535") }
        guard (1...64).contains(transfers) else { throw ValidationError("--transfers must be from 1 to 64") }
        guard (tlsCert == nil) == (tlsKey == nil) else { throw ValidationError("--tls-cert and --tls-key go together: give both, or neither") }
        guard rememberedRecords >= 0 else { throw ValidationError("--remembered-records must be 0 or more, found \(rememberedRecords)") }
        guard Quantity.byteCount(reserve) != nil else { throw ValidationError("--reserve must be a size such as 0, 500MB or 10GiB, found '\(reserve)'") }
        if let store {
            do {
                _ = try S3Location(parsing: store)
            } catch {
                throw ValidationError("--store: \(error.text)")
            }
            guard let endpoint = s3Endpoint, endpoint.hasPrefix("http://") || endpoint.hasPrefix("https://") else {
                throw ValidationError("--store \(store) needs --s3-endpoint with the server's http:// or https:// URL")
            }
            guard let threshold = Quantity.byteCount(s3MultipartThreshold), threshold >= UInt64(ObjectStoreSettings.minimumPartSize) else {
                throw ValidationError("--s3-multipart-threshold must be a size of 5MiB or more, found '\(s3MultipartThreshold)'")
            }
            if let s3Quota {
                guard let quota = Quantity.byteCount(s3Quota), quota > 0 else {
                    throw ValidationError("--s3-quota must be a size such as 500GiB or 20TB, found '\(s3Quota)'")
                }
            }
        } else if s3Endpoint != nil || s3Credentials != nil || s3Quota != nil {
            throw ValidationError("--s3-endpoint, --s3-credentials and --s3-quota go with --store s3://BUCKET/PREFIX")
        }
    }
}

@main
enum Main {
    /// The bucket the agent writes into, checked once: a bucket that does not exist or
    /// refuses these credentials stops the agent at start, named; one that does not answer
    /// yet is only a warning (its transfers wait and retry).
    static func objectStore(_ store: String, endpoint: String, region: String, credentialsFile: String?, logger: Logger) -> ObjectStoreSettings {
        let credentials: S3Credentials
        do {
            if let file = credentialsFile {
                let bytes = try readSmallFile(file, limit: 64 * 1024)
                credentials = try S3Credentials(parsing: String(decoding: bytes, as: UTF8.self), file: file)
            } else if let fromEnvironment = S3Credentials(environment: ["AWS_ACCESS_KEY_ID": ProcessEnvironment.variable("AWS_ACCESS_KEY_ID") ?? "",
                                                                                 "AWS_SECRET_ACCESS_KEY": ProcessEnvironment.variable("AWS_SECRET_ACCESS_KEY") ?? ""]) {
                credentials = fromEnvironment
            } else {
                Terminal.write("error: --store \(store) needs credentials: --s3-credentials FILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\n")
                exit(ExitStatus.usage.rawValue)
            }
        } catch let error as ConfigMessage {
            Terminal.write("error: \(error.text)\n")
            exit(ExitStatus.usage.rawValue)
        } catch {
            Terminal.write("error: cannot read the credentials file: \(error)\n")
            exit(ExitStatus.usage.rawValue)
        }
        let settings = ObjectStoreSettings(location: try! S3Location(parsing: store), endpoint: endpoint, region: region, credentials: credentials)
        let client = S3Client(endpoint: endpoint, bucket: settings.location.bucket,
                              credentials: .init(region: region, accessKey: credentials.accessKey, secretKey: credentials.secretKey), timeout: .seconds(10))
        do throws(S3Error) {
            _ = try client.list(prefix: settings.location.prefix, pageSize: 1)
        } catch where error.isTransient {
            logger.warning("the object store \(settings.location) at \(endpoint) does not answer yet (\(error)); transfers will retry")
        } catch {
            Terminal.write("error: the object store \(settings.location) at \(endpoint) refuses this agent: \(error)\n")
            exit(ExitStatus.usage.rawValue)
        }
        return settings
    }

    static func main() {
        let command: AgentCommand
        do {
            command = try AgentCommand.parse(Array(CommandLine.arguments.dropFirst()))
        } catch {
            if AgentCommand.exitCode(for: error) == .success { AgentCommand.exit(withError: error) }
            Terminal.write(AgentCommand.fullMessage(for: error) + "\n")
            exit(ExitStatus.usage.rawValue)
        }
        ProcessEnvironment.raiseOpenFileLimit()
        let level: Logger.Level = command.verbose ? .debug : .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "softcopy-agent")

        let root = PathNormalizer.absolute(command.root, base: ProcessEnvironment.currentDirectory(), home: nil)
        guard (try? FileStatus.of(root))??.kind == .directory else {
            Terminal.write("error: --root \(root) is not an existing folder\n")
            exit(ExitStatus.usage.rawValue)
        }
        guard access(root, W_OK) == 0 else {
            Terminal.write("error: --root \(root) is not writable by this user\n")
            exit(ExitStatus.usage.rawValue)
        }
        var configuration = AgentConfiguration(root: root, name: command.name ?? Clock.hostName())
        configuration.host = command.host
        configuration.port = command.port
        configuration.transfers = command.transfers
        configuration.verbose = command.verbose
        configuration.advertise = !command.noAdvertise
        configuration.reserve = Quantity.byteCount(command.reserve) ?? configuration.reserve
        configuration.rememberedRecords = command.rememberedRecords
        configuration.directIO = !command.noDirectIO
        configuration.requireMount = command.requireMount
        let absolute = { (path: String) in PathNormalizer.absolute(path, base: ProcessEnvironment.currentDirectory(), home: nil) }
        configuration.tlsCertificate = command.tlsCert.map(absolute)
        configuration.tlsKey = command.tlsKey.map(absolute)
        configuration.tlsCA = command.tlsCa.map(absolute)
        do {
            configuration.token = try TokenFile.read(optional: command.tokenFile)
            configuration.readToken = try TokenFile.read(optional: command.readTokenFile)
        } catch {
            Terminal.write("error: \(error)\n")
            exit(ExitStatus.usage.rawValue)
        }

        if let store = command.store, let endpoint = command.s3Endpoint {
            configuration.objectStore = objectStore(store, endpoint: endpoint, region: command.s3Region, credentialsFile: command.s3Credentials, logger: logger)
            configuration.objectStore?.multipartThreshold = Int(Quantity.byteCount(command.s3MultipartThreshold) ?? 64 << 20)
            configuration.objectStore?.quota = command.s3Quota.flatMap { Quantity.byteCount($0) }
        }

        SignalWatcher.blockInThisThread()
        // Whether SIGINT or SIGTERM came, behind the lock the main thread waits on.
        let stop = ConditionLock(false)
        _ = SignalWatcher { signal in
            guard signal == SIGINT || signal == SIGTERM else { return }
            stop.withLock { (stopping: inout Bool) in
                stopping = true
                stop.broadcast()
            }
        }
        let agent: Agent
        let port: Int
        do {
            agent = try Agent(configuration: configuration, logger: logger)
            port = try agent.start()
        } catch {
            if let error = error as? TLSSetupError {
                Terminal.write("error: \(error)\n")
            } else {
                Terminal.write("error: cannot serve on \(command.host):\(command.port): \(error)\n")
            }
            exit(ExitStatus.usage.rawValue)
        }
        logger.info("softcopy-agent \(configuration.name) serving \(configuration.objectStore.map { "\($0.location) at \($0.endpoint) (staging under \(root))" } ?? root) on \(configuration.tlsCertificate == nil ? "http" : "https")://\(command.host):\(port)\(configuration.token != nil ? " (token required)" : "")")
        stop.waitFor { (stopping: inout Bool) in
            stopping ? .done(()) : .wait(until: nil)
        }
        logger.info("stopping: transfers under way finish first")
        agent.stop()
        exit(0)
    }
}
