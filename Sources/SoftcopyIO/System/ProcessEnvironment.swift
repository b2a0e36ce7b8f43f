import Glibc

/// Where relative paths on a command line start from.
public enum ProcessEnvironment {
    public static func currentDirectory() -> String {
        guard let cwd = getcwd(nil, 0) else { return "/" }
        defer { free(cwd) }
        return String(cString: cwd)
    }

    public static func homeDirectory() -> String? {
        variable("HOME")
    }

    public static func variable(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    /// This process's environment with `overrides` on top, as `NAME=value` strings for a
    /// child's `envp`.
    public static func variables(with overrides: [String: String]) -> [String] {
        var variables: [String: String] = [:]
        var entry = environ
        while let pointer = entry.pointee {
            let text = String(cString: pointer)
            if let equals = text.firstIndex(of: "=") { variables[String(text[..<equals])] = String(text[text.index(after: equals)...]) }
            entry += 1
        }
        for (key, value) in overrides { variables[key] = value }
        return variables.map { "\($0.key)=\($0.value)" }
    }
}

extension ProcessEnvironment {
    /// Raises the soft limit on open files to the hard one (at most 65,536). A batch keeps
    /// each staged file and its folder open until its group commit, so several workers'
    /// batches can pass the usual soft limit of 1024; the hard limit is what the admin set.
    public static func raiseOpenFileLimit() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        let wanted = min(limit.rlim_max, 65_536)
        guard limit.rlim_cur < wanted else { return }
        limit.rlim_cur = wanted
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
}
