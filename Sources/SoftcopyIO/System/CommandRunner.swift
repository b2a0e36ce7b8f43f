import Glibc
import SoftcopyCore

/// Runs a user's shell command (`notify: command:`): `/bin/sh -c COMMAND` with this
/// process's environment and `environment` on top, no input, its output on this process's
/// (the journal, under systemd), with the default signal handling and an empty signal
/// mask (the coordinator blocks its signals in every thread, and a child would inherit
/// that), killed after `timeout`.
public enum CommandRunner {
    public enum Outcome: Sendable, Hashable {
        case exited(Int32)
        case signalled(Int32)
        case timedOut
    }

    public static func run(_ command: String, environment: [String: String], timeout: Duration) throws(SystemError) -> Outcome {
        let arguments: [String] = ["/bin/sh", "-c", command]
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = ProcessEnvironment.variables(with: environment).map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/sh", &actions, &attributes, argv, envp)
        guard spawned == 0 else { throw SystemError("spawn", path: "/bin/sh", errno: spawned) }
        let deadline = Clock.now() + timeout
        var status: Int32 = 0
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { break }
            if r < 0, errno != EINTR { throw SystemError("waitpid", errno: errno) }
            if Clock.now() >= deadline {
                kill(pid, SIGKILL)
                while waitpid(pid, &status, 0) < 0, errno == EINTR {}
                return .timedOut
            }
            Clock.sleep(.milliseconds(50))
        }
        // WIFEXITED and friends are macros Swift does not import.
        if status & 0x7F == 0 { return .exited((status >> 8) & 0xFF) }
        return .signalled(status & 0x7F)
    }
}
