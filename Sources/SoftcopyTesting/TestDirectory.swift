import Glibc

/// A fresh folder under /tmp for one test, removed afterwards (kept when the environment
/// sets SOFTCOPY_KEEP_TEST_DIRS, to look at what a failing test left).
public final class TestDirectory: Sendable {
    public let path: String

    public init(_ label: String = "test") {
        var template = Array("/tmp/softcopy-\(label)-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    deinit {
        guard getenv("SOFTCOPY_KEEP_TEST_DIRS") == nil else { return }
        _ = try? ChildProcess.run(["/bin/rm", "-rf", path], timeout: .seconds(60))
    }

    public func appending(_ name: String) -> String {
        path + "/" + name
    }

    /// Writes `text` to a file (made or truncated): a targets file, a token, a source file.
    public static func write(_ text: String, to file: String, mode: UInt32 = 0o644) {
        let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, mode_t(mode))
        precondition(fd >= 0, "cannot create \(file)")
        _ = text.withCString { Glibc.write(fd, $0, strlen($0)) }
        close(fd)
    }

    /// Writes bytes to a file (made or truncated).
    public static func write(bytes: [UInt8], to file: String, mode: UInt32 = 0o644) {
        let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, mode_t(mode))
        precondition(fd >= 0, "cannot create \(file)")
        _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }
}
