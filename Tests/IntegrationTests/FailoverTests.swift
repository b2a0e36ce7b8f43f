import Glibc
import Testing
import SoftcopyCore
import SoftcopyHTTP
import SoftcopyIO
import SoftcopyTesting

extension IntegrationTests {
    /// The port of an agent's URL, to start it again where coordinators look for it.
    static func port(of url: String) -> Int {
        Int(url.split(separator: ":").last ?? "") ?? 0
    }

    /// Which agents hold each source file (by key), and the keys held by more than one.
    static func holders(_ source: String, _ agents: [AgentProcess], destination: String = "acq.zarr") throws -> (byKey: [String: [String]], shared: [String]) {
        var byKey: [String: [String]] = [:]
        for (n, agent) in agents.enumerated() {
            for key in try agent.files(destination).keys { byKey[key, default: []].append("n\(n)") }
        }
        return (byKey, byKey.filter { $0.value.count > 1 }.keys.sorted())
    }

    static func verify(_ source: String, _ agents: [AgentProcess], extra: [String] = []) throws -> (code: Int32, out: String) {
        let run = try ChildProcess.run([Tools.coordinator, "verify", "--no-discovery"] + extra + agents.flatMap { ["--agent", $0.url] } + [source, "acq.zarr"],
                                       timeout: .seconds(120))
        return (run.code, run.stdout + run.stderr)
    }

    @Test("Failover, the agent back after the run: the run names the copies it may still hold, verify calls them superseded (exit 0), and the next run removes them: each key on exactly one node")
    func failoverBackAfterTheRun() throws {
        let dir = TestDirectory("failover-after")
        let source = dir.appending("src.zarr")
        try Scenario.writeArchive(source, ["--shape", "16,2,64,64", "--chunks", "1,2,64,64"])
        let n0 = try AgentProcess(in: dir, name: "n0")
        var n1 = try AgentProcess(in: dir, name: "n1")
        let (url1, root1) = (n1.url, n1.root)
        // Locality: each time point on one node, so both surely hold some.
        let coordinator = try ChildProcess(
            [Tools.coordinator, "--no-discovery", "--progress", "never", "--listen", "127.0.0.1:0", "--placement", "locality",
             "--agent", n0.url, "--agent", n1.url, source, "acq.zarr"],
            logPrefix: dir.appending("coordinator"))
        defer { coordinator.signal(SIGKILL) }
        try ChildProcess.waitUntil(timeout: .seconds(60), "the archive on the two agents") {
            ((try? TreeComparison.unionDifferences(source: source, destinations: [n0.root + "/acq.zarr", root1 + "/acq.zarr"])) ?? ["?"]).isEmpty
        }
        let heldAll = try n1.files("acq.zarr").keys.sorted()
        let held = heldAll.filter { $0.hasPrefix("c/") }
        #expect(held.count >= 2, "n1 holds chunks: \(held)")
        n1.process.signal(SIGKILL)
        _ = try n1.process.wait(timeout: .seconds(10))
        // Every chunk n1 held gets a new version (same size: raw uint16, any bytes are valid);
        // they can only go to n0 now.
        for (n, key) in held.enumerated() {
            let file = source + "/" + key
            let size = Int(try statusOf(file)!.size)
            TestDirectory.write(String(repeating: Character(UnicodeScalar(UInt8(65 + n % 26))), count: size), to: file + ".__lock")
            #expect(rename(file + ".__lock", file) == 0)
        }
        TestDirectory.write("", to: source + "/complete")
        #expect(try coordinator.wait(timeout: .seconds(120)) == 0, "\(coordinator.stderr)")
        #expect(coordinator.stderr.contains("n1 was not reachable at the end: it may still hold superseded copies of"), "\(coordinator.stderr)")
        let manifest = try JSONParser.parse(bytes: readSmallFile(n0.root + "/acq.zarr/" + Manifest.relativePath.string))
        let superseded = manifest["superseded"]?.arrayValue?.first
        #expect(superseded?["node"]?.stringValue == "n1" && superseded?["reachable"] == .bool(false), "\(manifest["superseded"] ?? .null)")
        let listed: [String] = superseded?["paths"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(Set(listed).isSuperset(of: held), "\(listed)")
        #expect(try TreeComparison.differences(source: source, destination: n0.root + "/acq.zarr") == [], "n0 alone holds the whole copy")

        // n1 comes back with its older versions. verify and the run agree: whole, and
        // those are superseded copies, not corruption.
        n1 = try AgentProcess(in: dir, name: "n1", root: root1, port: Self.port(of: url1))
        let stale = try n1.files("acq.zarr")
        let original = try TreeComparison.files(source)
        #expect(held.allSatisfy { stale[$0] != nil && stale[$0] != original[$0] }, "n1 holds older versions")
        let first = try Self.verify(source, [n0, n1])
        #expect(first.code == 0, "\(first.out)")
        // Its chunks are older versions; anything else it held (the metadata) was copied
        // again to n0 at the end, as n1 was away: duplicates.
        let duplicates = heldAll.count - held.count
        #expect(first.out.contains("n1 holds superseded copies of \(heldAll.count) files (\(held.count) older versions\(duplicates > 0 ? ", \(duplicates) duplicate" : ")")"), "\(first.out)")

        // A second run reaches n1 and removes them: each key on exactly one node, verified.
        let (again, log) = try Scenario.coordinator(["--once", "--listen", "127.0.0.1:0", "--placement", "locality",
                                                     "--agent", n0.url, "--agent", n1.url, source, "acq.zarr"], in: dir, name: "again")
        #expect(again == 0, "\(log)")
        #expect(!log.contains("not reachable"), "\(log)")
        let (byKey, shared) = try Self.holders(source, [n0, n1])
        #expect(shared == [], "held twice: \(shared)")
        #expect(Set(byKey.keys) == Set(original.keys))
        #expect(try TreeComparison.unionDifferences(source: source, destinations: [n0.root + "/acq.zarr", n1.root + "/acq.zarr"]) == [])
        let second = try Self.verify(source, [n0, n1])
        #expect(second.code == 0 && !second.out.contains("superseded"), "\(second.out)")
    }

    @Test("Failover with a real plane-by-plane writer, the agent back mid-run: its superseded copies go at attach; the end has each key on exactly one node, and verify agrees")
    func failoverBackMidRun() throws {
        let dir = TestDirectory("failover-mid")
        let source = dir.appending("src.zarr")
        let n0 = try AgentProcess(in: dir, name: "n0")
        var n1 = try AgentProcess(in: dir, name: "n1")
        let (url1, root1) = (n1.url, n1.root)
        let coordinator = try ChildProcess(
            [Tools.coordinator, "--no-discovery", "--wait-for-source", "--progress", "never", "--listen", "127.0.0.1:0",
             "--agent", n0.url, "--agent", n1.url, source, "acq.zarr"],
            logPrefix: dir.appending("coordinator"))
        defer { coordinator.signal(SIGKILL) }
        // tensorstore fills each chunk plane by plane: every chunk has four versions.
        let writer = try ChildProcess(
            [Tools.python, Tools.acquire, source, "--write-unit", "plane", "--locking", "lockfile", "--shape", "48,4,128,128",
             "--chunks", "1,4,64,64", "--rate", "0.5", "--complete"],
            logPrefix: dir.appending("writer"))
        try ChildProcess.waitUntil(timeout: .seconds(60), "n1 to hold some chunks") { ((try? n1.files("acq.zarr").count) ?? 0) >= 4 }
        n1.process.signal(SIGKILL)
        _ = try n1.process.wait(timeout: .seconds(10))
        // While n1 is away, the acquisition goes on (its keys' new versions go to n0).
        try ChildProcess.waitUntil(timeout: .seconds(60), "the coordinator to move n1's work") { coordinator.stderr.contains("go to the other agents") }
        try ChildProcess.waitUntil(timeout: .seconds(60), "more chunks on n0") { ((try? n0.files("acq.zarr").count) ?? 0) >= 40 }
        n1 = try AgentProcess(in: dir, name: "n1", root: root1, port: Self.port(of: url1))
        // The acquisition (12 s in all) is still going when n1 is attached again.
        try ChildProcess.waitUntil(timeout: .seconds(30), "n1 to be attached again") {
            coordinator.stderr.ranges(of: "attached to agent n1").count >= 2
        }
        #expect(writer.isRunning, "n1 came back mid-run")
        #expect(try writer.wait(timeout: .seconds(180)) == 0, "\(writer.stderr)")
        #expect(try coordinator.wait(timeout: .seconds(180)) == 0, "\(coordinator.stderr)")
        #expect(coordinator.stderr.contains("attached to agent n1") && !coordinator.stderr.contains("not reachable at the end"), "\(coordinator.stderr)")
        let (byKey, shared) = try Self.holders(source, [n0, n1])
        #expect(shared == [], "held twice after the run: \(shared)")
        #expect(Set(byKey.keys) == Set(try TreeComparison.files(source).keys))
        #expect(try TreeComparison.unionDifferences(source: source, destinations: [n0.root + "/acq.zarr", n1.root + "/acq.zarr"]) == [])
        let check = try Self.verify(source, [n0, n1])
        #expect(check.code == 0 && !check.out.contains("superseded"), "\(check.out)")

        // Copies nobody wrote for the record (a duplicate and an older version put there by
        // hand): verify names them, --repair removes exactly those, and the copy stays whole.
        let onN0 = try n0.files("acq.zarr").keys.filter { $0.hasPrefix("c/") }.sorted()
        let duplicate = onN0[0], older = onN0[1]
        for (key, bytes) in [(duplicate, try readSmallFile(n0.root + "/acq.zarr/" + duplicate)), (older, [UInt8](repeating: 7, count: 100))] {
            _ = try ChildProcess.run(["/bin/mkdir", "-p", PathNormalizer.directory(of: n1.root + "/acq.zarr/" + key)], timeout: .seconds(10))
            TestDirectory.write(bytes: bytes, to: n1.root + "/acq.zarr/" + key)
        }
        let found = try Self.verify(source, [n0, n1])
        #expect(found.code == 0 && found.out.contains("n1 holds superseded copies of 2 files (1 older version, 1 duplicate)"), "\(found.out)")
        let repaired = try Self.verify(source, [n0, n1], extra: ["--repair"])
        #expect(repaired.code == 0 && repaired.out.contains("removed 2 of them"), "\(repaired.out)")
        #expect(try statusOf(n1.root + "/acq.zarr/" + duplicate) == nil && statusOf(n1.root + "/acq.zarr/" + older) == nil)
        let after = try Self.verify(source, [n0, n1])
        #expect(after.code == 0 && !after.out.contains("superseded"), "\(after.out)")
    }
}
