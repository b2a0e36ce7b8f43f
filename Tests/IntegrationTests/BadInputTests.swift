import Glibc
import Testing
import SoftcopyCore
import SoftcopyIO
import SoftcopyTesting

extension IntegrationTests {
    struct BadTargets: CustomTestStringConvertible, Sendable {
        var name: String
        var text: String
        var message: String
        var testDescription: String { name }
    }

    static let badTargets: [BadTargets] = [
        BadTargets(name: "YAML syntax error", text: "targets:\n  - source: /a\n    destination: [/b\n", message: ":4:1: YAML syntax error"),
        BadTargets(name: "misspelt key", text: "targets:\n  - source: /a\n    destinaton: /b\n", message: ":3:5: unknown key 'destinaton' in target 1 (did you mean 'destination'?)"),
        BadTargets(name: "missing destination", text: "targets:\n  - source: /a\n", message: ":2:5: target 1 has no 'destination'"),
        BadTargets(name: "targets is not a list", text: "targets: /a\n", message: ":1:10: 'targets' must be a list"),
        BadTargets(name: "bad value", text: "targets:\n  - source: /a\n    destination: /b\nnprocs: many\n", message: ":4:9: 'nprocs' must be a whole number"),
        BadTargets(name: "bad duration", text: "targets:\n  - source: /a\n    destination: /b\n    quiet_period: soon\n", message: ":4:19: 'quiet_period' must be a duration"),
        BadTargets(name: "destination inside source", text: "targets:\n  - source: /a\n    destination: /a/copy\n", message: ":3:18: destination /a/copy lies inside the source /a"),
        BadTargets(name: "empty file", text: "", message: ": the file is empty"),
        BadTargets(name: "two documents", text: "targets: []\n---\ntargets: []\n", message: ":2:1: only one YAML document is allowed"),
        BadTargets(name: "unknown anchor", text: "targets:\n  - *nothing\n", message: ":2:5: alias '*nothing' refers to no anchor"),
    ]

    @Test("a malformed targets file is rejected with its file, line and column", arguments: badTargets)
    func malformedTargets(bad: BadTargets) throws {
        try Tools.requireRealParts()
        let dir = TestDirectory("yaml")
        let file = dir.appending("targets.yaml")
        TestDirectory.write(bad.text, to: file)
        let (code, log) = try Scenario.coordinator([file], in: dir)
        #expect(code == ExitStatus.usage.rawValue)
        #expect(log.contains("error: \(file)\(bad.message)"), "\(log)")
    }

    @Test("a missing source is named with where the targets file gives it")
    func missingSource() throws {
        try Tools.requireRealParts()
        let dir = TestDirectory("nosrc")
        let file = dir.appending("targets.yaml")
        try ChildProcess.run(["/bin/sh", "-c", "printf 'targets:\\n  - source: nowhere.zarr\\n    destination: out.zarr\\n' > \(file)"], timeout: .seconds(10))
        let (code, log) = try Scenario.coordinator([file], in: dir)
        #expect(code == ExitStatus.usage.rawValue)
        #expect(log.contains("the source does not exist: \(dir.appending("nowhere.zarr")) (\(file):2:13)"), "\(log)")
        #expect(try statusOf(dir.appending("out.zarr")) == nil)
    }

    @Test("a destination that reaches into the source through a symlink is refused")
    func overlapThroughSymlink() throws {
        let dir = TestDirectory("overlap")
        try Scenario.writeArchive(dir.appending("src.zarr"), ["--shape", "2,1,32,32"])
        symlink(dir.appending("src.zarr"), dir.appending("link"))
        let (code, log) = try Scenario.coordinator(["--once", dir.appending("src.zarr"), dir.appending("link/copy")], in: dir)
        #expect(code == ExitStatus.usage.rawValue)
        #expect(log.contains("overlap"), "\(log)")
        #expect(try statusOf(dir.appending("src.zarr/copy")) == nil)
    }

    @Test("a destination that cannot be made is a clear error")
    func unusableDestination() throws {
        let dir = TestDirectory("nodest")
        try Scenario.writeArchive(dir.appending("src.zarr"), ["--shape", "2,1,32,32"])
        try ChildProcess.run(["/bin/sh", "-c", "echo file > \(dir.appending("blocker"))"], timeout: .seconds(10))
        let (code, log) = try Scenario.coordinator(["--once", dir.appending("src.zarr"), dir.appending("blocker/copy.zarr")], in: dir)
        #expect(code == ExitStatus.usage.rawValue)
        #expect(log.contains("cannot use the destination \(dir.appending("blocker/copy.zarr"))"), "\(log)")
        #expect(log.contains("Not a directory"), "\(log)")
    }

    @Test("a source file that cannot be read is named with its cause; the rest is copied")
    func permissionDenied() throws {
        let dir = TestDirectory("perm")
        let source = dir.appending("src.zarr"), destination = dir.appending("dst.zarr")
        try Scenario.writeArchive(source, ["--shape", "3,1,32,32"])
        // Root reads anything: run the coordinator as nobody, with one file kept from it.
        try ChildProcess.run(["/bin/sh", "-c", "chmod 755 \(dir.path) && chmod 000 \(source)/c/1/0/0/0 && mkdir \(destination) && chown 65534:65534 \(destination)"], timeout: .seconds(10))
        let run = try ChildProcess(
            ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", Tools.coordinator, "--no-discovery", "--progress", "never", "--once", source, destination],
            logPrefix: dir.appending("coordinator"))
        let code = try run.wait(timeout: .seconds(120))
        #expect(code == ExitStatus.incomplete.rawValue, "\(run.stderr)")
        #expect(run.stderr.contains("c/1/0/0/0: open \(source)/c/1/0/0/0: Permission denied"), "\(run.stderr)")
        let differences = try TreeComparison.differences(source: source, destination: destination)
        #expect(differences == ["missing at the destination: c/1/0/0/0"])
    }

    @Test("remove_source with a source file that cannot be read: it stays and is named, and so does every other file")
    func permissionDeniedKeepsSource() throws {
        let dir = TestDirectory("perm-remove")
        let source = dir.appending("src.zarr"), destination = dir.appending("dst.zarr")
        try Scenario.writeArchive(source, ["--shape", "3,1,32,32", "--complete"])
        // Every folder is nobody's (so nobody could unlink any file); one file it may not read.
        try ChildProcess.run(["/bin/sh", "-c", "chmod 777 \(dir.path) && chown -R 65534:65534 \(source) && chown 0:0 \(source)/c/1/0/0/0 && chmod 000 \(source)/c/1/0/0/0 && mkdir \(destination) && chown 65534:65534 \(destination)"], timeout: .seconds(10))
        let before = try TreeComparison.files(source)
        let run = try ChildProcess(
            ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", Tools.coordinator, "--no-discovery", "--progress", "never", "--once",
             "--remove-source", "after-verify", source, destination],
            logPrefix: dir.appending("coordinator"))
        #expect(try run.wait(timeout: .seconds(120)) == ExitStatus.incomplete.rawValue, "\(run.stderr)")
        let said = run.stdout + run.stderr
        #expect(said.contains("c/1/0/0/0: open \(source)/c/1/0/0/0: Permission denied"), "\(said)")
        #expect(said.contains("source NOT removed (remove_source: after-verify): the copy is not complete (1 problem, the first c/1/0/0/0)"), "\(said)")
        #expect(try TreeComparison.files(source) == before, "nothing is removed from a copy that is not complete")
        #expect(try statusOf(RemovalJournal.location(ofSource: source)) == nil)
    }

    @Test("a source folder that cannot be listed makes the copy incomplete, by name")
    func unreadableFolder() throws {
        let dir = TestDirectory("permdir")
        let source = dir.appending("src.zarr"), destination = dir.appending("dst.zarr")
        try Scenario.writeArchive(source, ["--shape", "3,1,32,32"])
        symlink("/etc/hostname", source + "/a-link")
        try ChildProcess.run(["/bin/sh", "-c", "chmod 755 \(dir.path) && chmod 000 \(source)/c/2 && mkdir \(destination) && chown 65534:65534 \(destination)"], timeout: .seconds(10))
        let run = try ChildProcess(
            ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", Tools.coordinator, "--no-discovery", "--progress", "never", "--once", source, destination],
            logPrefix: dir.appending("coordinator"))
        #expect(try run.wait(timeout: .seconds(120)) == ExitStatus.incomplete.rawValue, "\(run.stderr)")
        #expect(run.stderr.contains("c/2: cannot list this source folder: opendir \(source)/c/2: Permission denied"), "\(run.stderr)")
        #expect(run.stderr.contains("a-link: not copied: a symbolic link to /etc/hostname, outside the archive"), "\(run.stderr)")
        #expect(try statusOf(destination + "/c/1/0/0/0") != nil, "the rest is copied")
    }
}
