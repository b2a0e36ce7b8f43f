import Glibc
import SoftcopyCore
import SoftcopyIO

/// Separate hosts on this machine for discovery tests: network namespaces on a bridge,
/// each with its own dbus-daemon and avahi-daemon (tools/netns.sh). Host n has the
/// address 10.77.0.(10+n), reachable only from the other hosts: every client a test
/// runs against them runs inside one of them. Torn down (processes killed, namespaces
/// deleted) when released.
public final class Cluster: Sendable {
    public let prefix: String
    public let hosts: Int
    private let script = Tools.packageRoot + "/tools/netns.sh"

    public init(hosts: Int) throws {
        try Tools.requireRealParts()
        guard getuid() == 0 else {
            throw ChildProcess.Failure(description: "cluster tests need root (network namespaces); run them as root, as CI does")
        }
        // Unique per cluster, so that tearing one down never touches another.
        prefix = "sc" + String(UInt32.random(in: 0..<0x10_0000), radix: 16)
        self.hosts = hosts
        _ = try? ChildProcess.run(["/bin/bash", script, "down", prefix], timeout: .seconds(30))
        let up = try ChildProcess.run(["/bin/bash", script, "up", prefix, String(hosts)], timeout: .seconds(60))
        guard up.code == 0 else {
            throw ChildProcess.Failure(description: "tools/netns.sh up failed (\(up.code)): \(up.stderr)")
        }
    }

    public func address(_ host: Int) -> String { "10.77.0.\(10 + host)" }

    /// Starts `arguments` (an absolute path first) on `host`, on that host's system bus.
    public func start(on host: Int, _ arguments: [String], logPrefix: String) throws -> ChildProcess {
        try ChildProcess(["/bin/bash", script, "exec", prefix, String(host)] + arguments, logPrefix: logPrefix)
    }

    /// Runs a command on `host` to completion.
    public func run(on host: Int, _ arguments: [String], timeout: Duration) throws -> (code: Int32, stdout: String, stderr: String) {
        try ChildProcess.run(["/bin/bash", script, "exec", prefix, String(host)] + arguments, timeout: timeout)
    }

    /// A softcopy-agent on `host` (port 7481, advertised through Avahi), once it is advertised.
    public func agent(on host: Int, name: String, root: String, logPrefix: String) throws -> ChildProcess {
        _ = mkdir(root, 0o755)
        let process = try start(on: host, [Tools.agent, "--root", root, "--name", name], logPrefix: logPrefix)
        try ChildProcess.waitUntil(timeout: .seconds(30), "agent \(name) to be advertised") {
            process.stderr.contains("advertised through Avahi as") || !process.isRunning
        }
        guard process.isRunning else { throw ChildProcess.Failure(description: "agent \(name) exited: \(process.stderr)") }
        return process
    }

    /// Kills `host`'s avahi-daemon and starts it again.
    public func restartAvahi(on host: Int) throws {
        let result = try ChildProcess.run(["/bin/bash", script, "restart-avahi", prefix, String(host)], timeout: .seconds(30))
        guard result.code == 0 else { throw ChildProcess.Failure(description: "restarting avahi-daemon failed: \(result.stderr)") }
    }

    /// `avahi-browse -rtp _softcopy._tcp` on `host`, parsed: TXT records (plus `address` and
    /// `port`) by service name. A service seen but not yet resolved has an empty record.
    public func browse(from host: Int) throws -> [String: [String: String]] {
        let result = try run(on: host, ["/usr/bin/avahi-browse", "-rtp", "_softcopy._tcp"], timeout: .seconds(30))
        var services: [String: [String: String]] = [:]
        for line in result.stdout.split(separator: "\n") {
            let fields = line.split(separator: ";", omittingEmptySubsequences: false)
            guard fields.count >= 4 else { continue }
            let name = Self.unescape(fields[3])
            if fields[0] == "+" {
                if services[name] == nil { services[name] = [:] }
                continue
            }
            guard fields[0] == "=", fields.count >= 10 else { continue }
            var txt: [String: String] = [:]
            // TXT: "k=v" "k=v" ...
            for item in fields[9...].joined(separator: ";").split(separator: "\"") where item.contains("=") {
                let pair = item.split(separator: "=", maxSplits: 1)
                txt[String(pair[0])] = pair.count > 1 ? String(pair[1]) : ""
            }
            txt["address"] = String(fields[7])
            txt["port"] = String(fields[8])
            services[name] = txt
        }
        return services
    }

    /// avahi-browse -p writes bytes of names as `\DDD` (decimal): `store1\032#2` is "store1 #2".
    static func unescape(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var i = text.utf8.startIndex
        let utf8 = text.utf8
        while i < utf8.endIndex {
            let c = utf8[i]
            let digits = utf8[utf8.index(after: i)...].prefix(3)
            if c == UInt8(ascii: "\\"), digits.count == 3, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
               let value = UInt8(String(decoding: digits, as: UTF8.self)) {
                bytes.append(value)
                i = utf8.index(i, offsetBy: 4)
            } else {
                bytes.append(c)
                i = utf8.index(after: i)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    deinit {
        _ = try? ChildProcess.run(["/bin/bash", script, "down", prefix], timeout: .seconds(60))
    }
}
