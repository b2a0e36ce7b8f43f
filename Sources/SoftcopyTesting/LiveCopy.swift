import Glibc
public import SoftcopyCore
import SoftcopyIO

/// One run of the real coordinator against a real writer (tools/acquire.py driving
/// tensorstore or zarr-python), with everything a test asserts on afterwards.
public struct CopyRun: Sendable {
    public var source: String
    public var destination: String
    public var writerCode: Int32?
    public var writerLog: String
    public var coordinatorCode: Int32
    public var coordinatorLog: String

    /// The manifest the coordinator wrote at the destination.
    public func manifest() throws -> JSONValue {
        let bytes = try readSmallFile(destination + "/" + Manifest.relativePath.string)
        return try JSONParser.parse(bytes: bytes)
    }

    public func differences() throws -> [String] {
        try TreeComparison.differences(source: source, destination: destination)
    }

    public var failureContext: String {
        "coordinator exit \(coordinatorCode):\n\(coordinatorLog)\nwriter exit \(writerCode.map(String.init) ?? "-"):\n\(writerLog)"
    }
}

public enum Scenario {
    /// Starts the coordinator on a source that does not exist yet, then runs the writer in
    /// lockstep (it waits after each time point until the copy has it, and opens the copy
    /// with zarr-python and tensorstore), then waits for the coordinator to finish.
    public static func liveCopy(
        in directory: TestDirectory, writer: [String], writerEnvironment: [String: String] = [:],
        coordinator: [String] = [], destinationArgument: String? = nil, timeout: Duration = .seconds(180)
    ) throws -> CopyRun {
        let copier = try watchingCopier(in: directory, options: coordinator, destinationArgument: destinationArgument)
        let acquisition = try lockstepWriter(in: directory, writer, environment: writerEnvironment)
        let writerCode = try acquisition.wait(timeout: timeout)
        if writerCode != 0 {
            copier.process.signal(SIGTERM)  // the writer failed: no end marker will come
        }
        let coordinatorCode = try copier.process.wait(timeout: timeout)
        return CopyRun(source: copier.source, destination: copier.destination, writerCode: writerCode, writerLog: acquisition.stderr,
                       coordinatorCode: coordinatorCode, coordinatorLog: copier.process.stderr)
    }

    /// A coordinator started before the acquisition: `DIR/src.zarr` to `DIR/dst.zarr`.
    /// `destinationArgument` is what the coordinator is given instead (`dst.zarr` for an
    /// agent whose root is DIR).
    public static func watchingCopier(in directory: TestDirectory, options: [String] = [],
                                      destinationArgument: String? = nil) throws -> (process: ChildProcess, source: String, destination: String) {
        try Tools.requireRealParts()
        let source = directory.appending("src.zarr"), destination = directory.appending("dst.zarr")
        let process = try ChildProcess(
            [Tools.coordinator, "--no-discovery", "--wait-for-source", "--progress", "never"] + options + [source, destinationArgument ?? destination],
            logPrefix: directory.appending("coordinator"))
        return (process, source, destination)
    }

    /// The writer on `DIR/src.zarr`, in lockstep with the copy at `DIR/dst.zarr`.
    public static func lockstepWriter(in directory: TestDirectory, _ arguments: [String], environment: [String: String] = [:]) throws -> ChildProcess {
        try ChildProcess(
            [Tools.python, Tools.acquire, directory.appending("src.zarr"), "--lockstep", directory.appending("dst.zarr"),
             "--lockstep-timeout", "60"] + arguments,
            logPrefix: directory.appending("writer"), environment: environment)
    }

    /// Writes a finished archive with the real writer (no copier running).
    public static func writeArchive(_ path: String, _ arguments: [String], timeout: Duration = .seconds(180)) throws {
        try Tools.requireRealParts()
        let (code, _, stderr) = try ChildProcess.run([Tools.python, Tools.acquire, path] + arguments, timeout: timeout)
        guard code == 0 else { throw ChildProcess.Failure(description: "acquire.py failed (\(code)): \(stderr)") }
    }

    /// Runs the coordinator to completion.
    public static func coordinator(_ arguments: [String], in directory: TestDirectory, name: String = "coordinator", timeout: Duration = .seconds(180)) throws -> (code: Int32, log: String) {
        let child = try ChildProcess([Tools.coordinator, "--no-discovery", "--progress", "never"] + arguments, logPrefix: directory.appending(name))
        let code = try child.wait(timeout: timeout)
        return (code, child.stderr + child.stdout)
    }
}
