import Glibc
import Synchronization
import SoftcopyIO

/// A real `softcopy-agent` on a loopback port it picked itself, with its own data root.
public final class AgentProcess: Sendable {
    /// Numbers each start, so a restarted agent logs to a file of its own.
    private static let starts = Atomic<Int>(0)

    public let process: ChildProcess
    public let root: String
    public let url: String

    /// `root` defaults to a folder named after the agent; `extra` are more options.
    /// `port` 0 lets the agent pick one; a fixed port lets a restarted agent keep its URL.
    /// `user` runs it under that uid and gid (root ignores file permissions).
    public init(in directory: TestDirectory, name: String, tokenFile: String? = nil, transfers: Int = 4,
                root: String? = nil, port: Int = 0, user: UInt32? = nil, extra: [String] = []) throws {
        try Tools.requireRealParts()
        self.root = root ?? directory.appending(name)
        _ = mkdir(self.root, 0o755)
        var arguments = user.map { ["/usr/bin/setpriv", "--reuid=\($0)", "--regid=\($0)", "--clear-groups"] } ?? []
        if let user { _ = chown(self.root, user, user) }
        arguments += [Tools.agent, "--no-advertise", "--root", self.root, "--host", "127.0.0.1", "--port", String(port), "--name", name, "--transfers", String(transfers)]
        if let tokenFile { arguments += ["--token-file", tokenFile] }
        arguments += extra
        let process = try ChildProcess(arguments, logPrefix: directory.appending(name + "-agent-\(Self.starts.add(1, ordering: .relaxed).newValue)"))
        self.process = process
        var found: String?
        try ChildProcess.waitUntil(timeout: .seconds(20), "agent \(name) to listen") {
            found = Self.url(in: process.stderr, after: " on ")
            return found != nil
        }
        url = found!
    }

    /// The first `http://127.0.0.1:PORT` (or `https://`) that follows `marker` in a log.
    public static func url(in log: String, after marker: String) -> String? {
        for scheme in ["http", "https"] {
            guard let range = log.firstRange(of: marker + scheme + "://127.0.0.1:") else { continue }
            let digits = log[range.upperBound...].prefix(while: { $0.isNumber })
            return digits.isEmpty ? nil : scheme + "://127.0.0.1:" + digits
        }
        return nil
    }

    /// Real-named files under this agent's copy of `destination`.
    public func files(_ destination: String) throws -> [String: [UInt8]] {
        try TreeComparison.files(root + "/" + destination)
    }

    deinit {
        process.signal(SIGKILL)
        _ = try? process.wait(timeout: .seconds(10))
    }
}
