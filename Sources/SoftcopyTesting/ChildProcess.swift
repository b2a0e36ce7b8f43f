public import Glibc
import SoftcopyCore
import SoftcopyIO
import Synchronization

/// A child process with its output in files, waited for with a bound: tests never hang.
public final class ChildProcess: Sendable {
    public let pid: pid_t
    public let arguments: [String]
    public let stdoutPath: String
    public let stderrPath: String
    /// The logs are in /tmp under a made-up name (no `logPrefix`): removed with the process.
    private let ownsLogs: Bool
    /// The exit code once it is known (waited for).
    private let exited = Mutex<Int32?>(nil)

    public struct Failure: Error, CustomStringConvertible {
        public var description: String

        public init(description: String) {
            self.description = description
        }
    }

    /// Starts `arguments[0]` (an absolute path) with output going to files next to `logPrefix`.
    public init(_ arguments: [String], logPrefix: String? = nil, environment: [String: String] = [:]) throws {
        self.arguments = arguments
        let prefix = logPrefix ?? "/tmp/softcopy-child-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        ownsLogs = logPrefix == nil
        stdoutPath = prefix + ".out"
        stderrPath = prefix + ".err"

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Children start with no blocked signals, whatever the test runner blocks.
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))

        let argv = arguments.map { strdup($0) } + [nil]
        // The coordinators of the tests keep their job history apart from the user's own.
        var environment = environment
        if environment["XDG_STATE_HOME"] == nil { environment["XDG_STATE_HOME"] = "/tmp/softcopy-tests-state" }
        let envp = ProcessEnvironment.variables(with: environment).map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var child: pid_t = 0
        let result = posix_spawn(&child, arguments[0], &actions, &attributes, argv, envp)
        guard result == 0 else {
            if ownsLogs {
                unlink(stdoutPath)
                unlink(stderrPath)
            }
            throw Failure(description: "cannot start \(arguments[0]): \(String(cString: strerror(result)))")
        }
        pid = child
    }

    deinit {
        if exited.withLock({ $0 }) == nil {
            kill(pid, SIGKILL)
            var s: Int32 = 0
            waitpid(pid, &s, 0)
        }
        if ownsLogs {
            unlink(stdoutPath)
            unlink(stderrPath)
        }
    }

    /// Waits up to `timeout` for the process to exit; returns its exit code (128 + signal
    /// if killed), or throws after killing it if it overstays.
    @discardableResult
    public func wait(timeout: Duration) throws -> Int32 {
        if let status = exited.withLock({ $0 }) { return status }
        let deadline = Clock.now() + timeout
        while true {
            var raw: Int32 = 0
            let r = waitpid(pid, &raw, WNOHANG)
            if r == pid {
                let code = (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
                exited.withLock { $0 = code }
                return code
            }
            if Clock.now() > deadline {
                kill(pid, SIGKILL)
                waitpid(pid, &raw, 0)
                exited.withLock { $0 = 137 }
                throw Failure(description: "\(arguments.joined(separator: " ")) did not finish within \(timeout); killed. stderr:\n\(stderr)")
            }
            Clock.sleep(.milliseconds(10))
        }
    }

    public var isRunning: Bool {
        if exited.withLock({ $0 }) != nil { return false }
        var raw: Int32 = 0
        let r = waitpid(pid, &raw, WNOHANG)
        if r == pid {
            exited.withLock { $0 = (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f) }
            return false
        }
        return true
    }

    public func signal(_ signal: Int32) {
        kill(pid, signal)
    }

    public var stdout: String { (try? String(decoding: readSmallFile(stdoutPath), as: UTF8.self)) ?? "" }
    public var stderr: String { (try? String(decoding: readSmallFile(stderrPath), as: UTF8.self)) ?? "" }

    /// Runs a command to completion and returns (exit code, stdout, stderr).
    @discardableResult
    public static func run(_ arguments: [String], timeout: Duration, environment: [String: String] = [:]) throws -> (code: Int32, stdout: String, stderr: String) {
        let child = try ChildProcess(arguments, environment: environment)
        let code = try child.wait(timeout: timeout)  // the logs go with `child`, even if this throws
        return (code, child.stdout, child.stderr)
    }

    /// Polls `condition` until it holds or `timeout` passes (bounded, for conditions that
    /// have no event to wait on, such as a line appearing in another process's log).
    public static func waitUntil(timeout: Duration, _ what: String, _ condition: () -> Bool) throws {
        let deadline = Clock.now() + timeout
        while !condition() {
            if Clock.now() > deadline { throw Failure(description: "timed out after \(timeout) waiting for \(what)") }
            Clock.sleep(.milliseconds(10))
        }
    }
}
