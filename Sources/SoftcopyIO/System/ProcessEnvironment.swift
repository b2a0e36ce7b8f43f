import Glibc

/// Where relative paths on a command line start from.
public enum ProcessEnvironment {
    public static func currentDirectory() -> String {
        guard let cwd = getcwd(nil, 0) else { return "/" }
        defer { free(cwd) }
        return String(cString: cwd)
    }

    public static func homeDirectory() -> String? {
        getenv("HOME").map { String(cString: $0) }
    }
}
