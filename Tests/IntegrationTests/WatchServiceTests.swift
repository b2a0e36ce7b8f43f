import Glibc
import Testing
import SoftcopyCore
import SoftcopyHTTP
import SoftcopyIO
import SoftcopyTesting

/// `watch:`: the coordinator as a service that copies every archive appearing in a folder,
/// with the real binary, real writers (tensorstore, zarr-python) and the real history file.
extension IntegrationTests {
    /// A targets file watching `folders` (each to `DESTINATION/{name}`), with the history in DIR/state.
    static func watchTargets(_ dir: TestDirectory, _ folders: [(folder: String, destination: String)], extra: String = "", entry: String = "") -> String {
        let targets = dir.appending("targets.yaml")
        let entries = folders.map { "  - folder: \($0.folder)\n    destination: \($0.destination)/{name}\n    idle_timeout: 120s" + entry }
        TestDirectory.write("watch:\n" + entries.joined(separator: "\n") + """

            state_dir: \(dir.appending("state"))
            listen: 127.0.0.1:0
            \(extra)
            """, to: targets)
        return targets
    }

    static func service(_ targets: String, in dir: TestDirectory, name: String = "service") throws -> (process: ChildProcess, url: String) {
        try Tools.requireRealParts()
        let process = try ChildProcess([Tools.coordinator, "--no-discovery", "--progress", "never", targets], logPrefix: dir.appending(name))
        return (process, try coordinatorURL(process))
    }

    /// A writer of `archive` that waits after each time point until `copy` holds it.
    static func lockstep(_ archive: String, copy: String, _ arguments: [String], in dir: TestDirectory, name: String) throws -> ChildProcess {
        try ChildProcess([Tools.python, Tools.acquire, archive, "--lockstep", copy, "--lockstep-timeout", "90", "--complete"] + arguments,
                         logPrefix: dir.appending(name))
    }

    /// The history's rows, read from its SQLite file by Python's own sqlite3.
    static func historyRows(_ dir: TestDirectory) throws -> [JSONValue] {
        let script = """
            import json, sqlite3, sys
            c = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
            c.row_factory = sqlite3.Row
            print(json.dumps([dict(r) for r in c.execute("SELECT row, job, source, destination, watch_folder, status, files, copied_files, reason FROM job ORDER BY row")]))
            """
        let run = try ChildProcess.run([Tools.python, "-c", script, dir.appending("state/history.sqlite")], timeout: .seconds(30))
        try #require(run.code == 0, "\(run.stderr)")
        return try JSONParser.parse(run.stdout).arrayValue ?? []
    }

    /// Waits until the service has `count` jobs and every one has ended verified.
    static func waitForJobs(_ url: String, count: Int, token: String? = nil) throws {
        try ChildProcess.waitUntil(timeout: .seconds(60), "\(count) jobs ended verified") {
            guard let status = try? HTTPClient(token: token).request("GET", url + "/v1/status", timeout: .seconds(5)),
                  let jobs = (try? JSONParser.parse(bytes: status.body))?["jobs"]?.arrayValue else { return false }
            return jobs.count == count && jobs.allSatisfy { $0["state"]?.stringValue == "verified" }
        }
    }

    static func verified(_ rows: [JSONValue], _ source: String) -> Bool {
        rows.contains { $0["source"]?.stringValue == source && $0["status"]?.stringValue == "verified" }
    }

    @Test("A service watching a folder copies three acquisitions that start at different times, two at once, each while it is written; the history, /metrics and the watch entry's notify: command record each once")
    func watchedFolderThreeAcquisitions() throws {
        let dir = TestDirectory("watch-three")
        let acq = dir.appending("acq"), nas = dir.appending("nas")
        #expect(mkdir(acq, 0o755) == 0)
        let notified = dir.appending("notified")
        #expect(mkdir(notified, 0o755) == 0)
        let targets = Self.watchTargets(dir, [(acq, nas)], entry: """

                notify:
                  command: echo "$SOFTCOPY_STATUS $SOFTCOPY_JOB" >> \(notified)/$(basename "$SOFTCOPY_SOURCE")
            """)
        let (service, url) = try Self.service(targets, in: dir)
        defer { if service.isRunning { service.signal(SIGKILL) } }

        // One acquisition alone (tensorstore), then two at once (tensorstore and zarr-python):
        // each writer goes on only once the copy holds what it wrote.
        let a = try Self.lockstep(acq + "/a.zarr", copy: nas + "/a.zarr", ["--shape", "5,1,64,64"], in: dir, name: "writer-a")
        #expect(try a.wait(timeout: .seconds(150)) == 0, "\(a.stderr)\n\(service.stderr)")
        let b = try Self.lockstep(acq + "/b.zarr", copy: nas + "/b.zarr", ["--shape", "5,1,64,64"], in: dir, name: "writer-b")
        let c = try Self.lockstep(acq + "/c.zarr", copy: nas + "/c.zarr", ["--shape", "5,1,64,64", "--writer", "zarr"], in: dir, name: "writer-c")
        #expect(try b.wait(timeout: .seconds(150)) == 0, "\(b.stderr)\n\(service.stderr)")
        #expect(try c.wait(timeout: .seconds(150)) == 0, "\(c.stderr)\n\(service.stderr)")

        let sources = ["a", "b", "c"].map { acq + "/\($0).zarr" }
        var rows: [JSONValue] = []
        try ChildProcess.waitUntil(timeout: .seconds(60), "all three verified in the history") {
            rows = (try? Self.historyRows(dir)) ?? []
            return sources.allSatisfy { Self.verified(rows, $0) }
        }
        for name in ["a", "b", "c"] {
            #expect(try TreeComparison.differences(source: acq + "/\(name).zarr", destination: nas + "/\(name).zarr") == [])
        }
        #expect(rows.count == 3, "one row per archive: \(rows)")
        // A row is complete before its job has told whom notify: names and ended.
        try Self.waitForJobs(url, count: 3)
        #expect(rows.allSatisfy { $0["watch_folder"]?.stringValue == acq && $0["reason"]?.stringValue?.contains("complete") == true }, "\(rows)")
        #expect(service.isRunning, "a service runs until it is stopped")

        // /metrics, read by Prometheus's parser: each job's counters are its summary's.
        let metrics = try Self.scrape(url, in: dir)
        for row in rows {
            let job = try #require(row["job"]?.stringValue)
            #expect(metrics.value("softcopy_job_state", ["job": job, "state": "verified"]) == 1, "\(metrics.samples)")
            #expect(metrics.value("softcopy_copied_files_total", ["job": job]) == row["copied_files"]?.doubleValue, "\(row)")
            #expect(metrics.value("softcopy_files_done", ["job": job]) == row["files"]?.doubleValue, "\(row)")
        }
        #expect(metrics.value("softcopy_jobs", ["state": "verified"]) == 3)
        // One message per job, never one per file.
        for row in rows {
            let source = try #require(row["source"]?.stringValue)
            let lines = String(decoding: try readSmallFile(notified + "/" + PathNormalizer.lastComponent(source)), as: UTF8.self)
            #expect(lines == "verified \(row["job"]?.stringValue ?? "?")\n", "\(source): \(lines)")
        }

        service.signal(SIGTERM)
        #expect(try service.wait(timeout: .seconds(60)) == ExitStatus.verified.rawValue, "no job was under way: \(service.stderr)")
    }

    @Test("Two archives in different folders whose {name} is the same: the first is copied, the second refused once, with why, in the history and the log")
    func watchedFolderNameCollision() throws {
        let dir = TestDirectory("watch-collision")
        let acq = dir.appending("acq"), nas = dir.appending("nas")
        #expect(mkdir(acq, 0o755) == 0)
        try Scenario.writeArchive(acq + "/alice/x.zarr", ["--shape", "2,1,32,32", "--complete"])
        let (service, _) = try Self.service(Self.watchTargets(dir, [(acq, nas)]), in: dir)
        defer { if service.isRunning { service.signal(SIGKILL) } }
        var rows: [JSONValue] = []
        try ChildProcess.waitUntil(timeout: .seconds(60), "the first archive verified") {
            rows = (try? Self.historyRows(dir)) ?? []
            return Self.verified(rows, acq + "/alice/x.zarr")
        }
        try Scenario.writeArchive(acq + "/bob/x.zarr", ["--shape", "2,1,32,32", "--complete"])
        try ChildProcess.waitUntil(timeout: .seconds(60), "the second one refused") {
            rows = (try? Self.historyRows(dir)) ?? []
            return rows.contains { $0["source"]?.stringValue == acq + "/bob/x.zarr" && $0["status"]?.stringValue == "refused" }
        }
        let refused = rows.filter { $0["source"]?.stringValue == acq + "/bob/x.zarr" }
        #expect(refused.count == 1 && refused[0]["reason"]?.stringValue?.contains("holds the copy of another source") == true, "\(refused)")
        #expect(try TreeComparison.differences(source: acq + "/alice/x.zarr", destination: nas + "/x.zarr") == [], "the first copy is untouched")
        #expect(service.isRunning, "a refused archive does not end the service")
        service.signal(SIGTERM)
        #expect(try service.wait(timeout: .seconds(60)) == ExitStatus.verified.rawValue)
    }

    @Test("The service resumes an acquisition after a restart in its middle, does not copy a verified archive again, and SIGHUP starts a new watch entry")
    func watchedFolderRestartAndReload() throws {
        let dir = TestDirectory("watch-restart")
        let acq = dir.appending("acq"), acq2 = dir.appending("acq2"), nas = dir.appending("nas"), nas2 = dir.appending("nas2")
        #expect(mkdir(acq, 0o755) == 0 && mkdir(acq2, 0o755) == 0)
        let targets = Self.watchTargets(dir, [(acq, nas)])
        let first = try Self.service(targets, in: dir, name: "service-1")
        defer { if first.process.isRunning { first.process.signal(SIGKILL) } }
        let source = acq + "/d.zarr"
        let writer = try Self.lockstep(source, copy: nas + "/d.zarr", ["--shape", "12,1,64,64"], in: dir, name: "writer-d")
        defer { if writer.isRunning { writer.signal(SIGKILL) } }
        try ChildProcess.waitUntil(timeout: .seconds(90), "a few time points copied") {
            ((try? TreeComparison.files(nas + "/d.zarr"))?.count ?? 0) >= 4
        }
        // Stopped in the middle: what was copied is durable; the writer waits for the copy.
        first.process.signal(SIGTERM)
        #expect(try first.process.wait(timeout: .seconds(60)) == ExitStatus.interrupted.rawValue, "\(first.process.stderr)")

        let second = try Self.service(targets, in: dir, name: "service-2")
        defer { if second.process.isRunning { second.process.signal(SIGKILL) } }
        #expect(try writer.wait(timeout: .seconds(150)) == 0, "\(writer.stderr)\n\(second.process.stderr)")
        var rows: [JSONValue] = []
        try ChildProcess.waitUntil(timeout: .seconds(60), "the resumed copy verified") {
            rows = (try? Self.historyRows(dir)) ?? []
            return Self.verified(rows, source)
        }
        #expect(try TreeComparison.differences(source: source, destination: nas + "/d.zarr") == [])
        #expect(rows.map { $0["status"]?.stringValue ?? "" } == ["interrupted", "verified"], "\(rows)")
        #expect(second.process.stderr.contains("\(source) was not verified by an earlier run: resuming"), "\(second.process.stderr)")
        #expect(second.process.stderr.contains("already verified by an earlier run"), "the restart sends again only what was missing")

        // A new entry, read on SIGHUP; the finished archive there is copied once.
        try Scenario.writeArchive(acq2 + "/e.zarr", ["--shape", "3,1,32,32", "--writer", "zarr", "--complete"])
        _ = Self.watchTargets(dir, [(acq, nas), (acq2, nas2)])
        second.process.signal(SIGHUP)
        try ChildProcess.waitUntil(timeout: .seconds(60), "the new entry's archive verified") {
            rows = (try? Self.historyRows(dir)) ?? []
            return Self.verified(rows, acq2 + "/e.zarr")
        }
        #expect(try TreeComparison.differences(source: acq2 + "/e.zarr", destination: nas2 + "/e.zarr") == [])
        #expect(rows.filter { $0["source"]?.stringValue == source }.count == 2, "the verified archive was not copied again: \(rows)")
        #expect(second.process.stderr.contains("SIGHUP: reading the targets file again"))
        try Self.waitForJobs(second.url, count: 2)
        second.process.signal(SIGTERM)
        #expect(try second.process.wait(timeout: .seconds(60)) == ExitStatus.verified.rawValue, "\(second.process.stderr)")
    }
}
