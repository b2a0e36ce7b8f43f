import Glibc
import Testing
import SoftcopyCore
import SoftcopyHTTP
import SoftcopyIO
import SoftcopyTesting

extension IntegrationTests {
    /// Bytes of every object under `prefix/` of the bucket, softcopy's own included.
    static func storedBytes(_ server: S3Server, prefix: String) throws -> UInt64 {
        try server.client().list(prefix: prefix + "/").reduce(0) { $0 + $1.size }
    }

    @Test("A bucket agent with a quota beside a folder agent: it takes chunks until its quota is used (refusing more), the rest land on the folder agent, the copy is whole; health and metrics report the quota, the bytes stored (counted at start, then kept current) and the room left")
    func s3QuotaHandsOver() throws {
        let dir = TestDirectory("s3-quota")
        let server = try S3Server(in: dir)
        // Something already under the prefix counts against the quota.
        try server.client().put("lab/older/zarr.json", [UInt8](repeating: 32, count: 100_000))
        let source = dir.appending("src.zarr")
        // 8 MiB of 32 KiB chunks; locality placement (which ignores free space) gives the
        // bucket agent half of them: more than its 3 MiB quota.
        try Scenario.writeArchive(source, ["--shape", "64,256,256", "--chunks", "1,128,128", "--complete"])
        let quota: UInt64 = 3 << 20
        let bucket = try Self.s3Agent(dir, server, name: "bucket", extra: ["--s3-quota", "3MiB", "--reserve", "0"])
        let folder = try AgentProcess(in: dir, name: "folder")
        try ChildProcess.waitUntil(timeout: .seconds(30), "the bucket agent to count its prefix") { bucket.process.stderr.contains("holds ") }
        let before = try Self.health(bucket)
        #expect(before["total_bytes"]?.uint64Value == quota && before["stored_bytes"]?.uint64Value == 100_000, "\(before)")
        #expect(before["free_bytes"]?.uint64Value == quota - 100_000 && before["staging_free_bytes"]?.uint64Value ?? 0 > 0, "\(before)")
        let targets = dir.appending("targets.yaml")
        TestDirectory.write("targets:\n  - source: \(source)\n    destination: acq.zarr\n    placement: locality\nfree_space_reserve: 0\n", to: targets)
        let (code, log) = try Scenario.coordinator(["--once", "--listen", "127.0.0.1:0", "--agent", bucket.url, "--agent", folder.url, targets], in: dir)
        #expect(code == 0, "\(log)")
        let original = try TreeComparison.files(source)
        let inBucket = try Self.objects(server, prefix: "lab/acq.zarr")
        let inFolder = try folder.files("acq.zarr")
        var union = inFolder
        for (key, bytes) in inBucket { union[key] = bytes }
        #expect(Set(union.keys) == Set(original.keys) && original.allSatisfy { union[$0.key] == $0.value })
        // Chunks up to the quota; the manifest and checksum lists are written at the end
        // whatever the room (as on a full disk).
        let stored = try Self.storedBytes(server, prefix: "lab")
        let manifests = try server.client().list(prefix: "lab/acq.zarr/.softcopy/").reduce(UInt64(0)) { $0 + $1.size }
        #expect(stored - manifests <= quota, "\(stored) bytes under the prefix, \(manifests) of them softcopy's own, quota \(quota)")
        #expect(stored - manifests > quota / 2, "the bucket took chunks up to its quota: \(inBucket.count) objects")
        let after = try Self.health(bucket)
        #expect(after["stored_bytes"]?.uint64Value == stored && after["free_bytes"]?.uint64Value == quota - min(stored, quota), "\(after)")
        let metrics = try Self.scrape(bucket.url, in: dir)
        #expect(metrics.value("softcopy_agent_bucket_quota_bytes", [:]) == Double(quota))
        #expect(metrics.value("softcopy_agent_bucket_stored_bytes", [:]) == Double(stored))
    }

    @Test("A bucket agent alone whose quota is too small for the archive: the run stops incomplete (never OK), naming the room; what landed in the bucket is intact. Without a quota, health reports the room as unbounded (null)")
    func s3QuotaNoRoom() throws {
        let dir = TestDirectory("s3-quota-full")
        let server = try S3Server(in: dir)
        let source = dir.appending("src.zarr")
        try Scenario.writeArchive(source, ["--shape", "32,256,256", "--chunks", "1,128,128", "--complete"])
        let bucket = try Self.s3Agent(dir, server, name: "bucket", extra: ["--s3-quota", "1MiB", "--reserve", "0"])
        let targets = dir.appending("targets.yaml")
        TestDirectory.write("targets:\n  - source: \(source)\n    destination: acq.zarr\nfree_space_reserve: 0\n", to: targets)
        let (code, log) = try Scenario.coordinator(["--once", "--listen", "127.0.0.1:0", "--agent", bucket.url, targets], in: dir)
        #expect(code == ExitStatus.incomplete.rawValue, "\(log)")
        #expect(log.contains("no node has room") || log.contains("insufficient storage"), "\(log)")
        let original = try TreeComparison.files(source)
        let landed = try Self.objects(server, prefix: "lab/acq.zarr")
        #expect(landed.count < original.count && landed.allSatisfy { original[$0.key] == $0.value })

        let unbounded = try Self.s3Agent(dir, server, name: "unbounded", prefix: "other")
        let health = try Self.health(unbounded)
        #expect(health["free_bytes"] == .null && health["total_bytes"] == .null && health["stored_bytes"] == .null, "\(health)")
        #expect(health["store"]?.stringValue == "s3://\(server.bucket)/other", "\(health)")
    }
}
