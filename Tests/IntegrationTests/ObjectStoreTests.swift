import Glibc
import Testing
import SoftcopyCore
import SoftcopyHTTP
import SoftcopyIO
import SoftcopyTesting

extension IntegrationTests {
    /// A softcopy-agent that writes into the bucket of `server` under `prefix`, its
    /// credentials in a file (never on the command line).
    static func s3Agent(_ dir: TestDirectory, _ server: S3Server, name: String, prefix: String = "lab", port: Int = 0,
                        extra: [String] = []) throws -> AgentProcess {
        let credentials = dir.appending("s3-credentials-\(name)")
        TestDirectory.write("[default]\naws_access_key_id = \(server.credentials.accessKey)\naws_secret_access_key = \(server.credentials.secretKey)\n",
                            to: credentials, mode: 0o600)
        return try AgentProcess(in: dir, name: name, root: dir.appending(name + "-staging"), port: port,
                                extra: ["--store", "s3://\(server.bucket)/\(prefix)", "--s3-endpoint", server.endpoint, "--s3-credentials", credentials] + extra)
    }

    /// Every object under `prefix/` of the bucket but softcopy's own, by key under it.
    static func objects(_ server: S3Server, prefix: String) throws -> [String: [UInt8]] {
        let s3 = server.client()
        var out: [String: [UInt8]] = [:]
        for object in try s3.list(prefix: prefix + "/") {
            let key = String(object.key.dropFirst(prefix.count + 1))
            if key.hasPrefix(".softcopy/") { continue }
            out[key] = try s3.get(object.key)
        }
        return out
    }

    @Test("A live tensorstore acquisition through an agent that writes into a real S3 server (SeaweedFS, rclone serve s3): every object equal to its source file, with its version and XXH3 in its metadata; tensorstore's s3 kvstore and zarr-python (obstore) read the arrays equal; the agent restarted, a second run sends nothing again; the server restarted too, verify (re-reading every object) finds the copy whole and a third run ends whole (rclone forgets user metadata: those objects are sent again, never taken as verified)",
          arguments: S3Server.Kind.allCases)
    func s3AgentLive(kind: S3Server.Kind) throws {
        let dir = TestDirectory("s3-live-\(kind)")
        let server = try S3Server(in: dir, kind: kind)
        let source = dir.appending("src.zarr")
        var agent = try Self.s3Agent(dir, server, name: "bucket")
        let coordinator = try Self.clusterCoordinator(dir, source, [agent])
        defer { coordinator.signal(SIGKILL) }
        let writer = try ChildProcess([Tools.python, Tools.acquire, source, "--shape", "12,2,64,64", "--chunks", "1,1,32,32", "--rate", "0.2", "--complete"],
                                      logPrefix: dir.appending("writer"))
        #expect(try writer.wait(timeout: .seconds(120)) == 0, "\(writer.stderr)")
        #expect(try coordinator.wait(timeout: .seconds(120)) == 0, "\(coordinator.stderr)")
        let original = try TreeComparison.files(source)
        let stored = try Self.objects(server, prefix: "lab/acq.zarr")
        #expect(Set(stored.keys) == Set(original.keys), "\(Set(original.keys).symmetricDifference(stored.keys).sorted())")
        #expect(original.allSatisfy { stored[$0.key] == $0.value }, "every object equal to its source file")
        let s3 = server.client()
        let sample = try #require(original.keys.filter { $0.hasPrefix("c/") }.sorted().first)
        let head = try #require(try s3.head("lab/acq.zarr/" + sample))
        #expect(head.metadata["softcopy-xxh3"] == XXH3Hasher.checksum(original[sample]!).hex && head.metadata["softcopy-version"] != nil, "\(head.metadata)")
        #expect(try s3.head("lab/acq.zarr/.softcopy/manifest.json") != nil, "the manifest is in the bucket beside the copy")
        let read = try ChildProcess.run([Tools.python, Tools.s3Read, server.endpoint, server.bucket, "lab/acq.zarr", source], timeout: .seconds(120),
                                        environment: ["AWS_ACCESS_KEY_ID": server.credentials.accessKey, "AWS_SECRET_ACCESS_KEY": server.credentials.secretKey])
        #expect(read.code == 0, "\(read.stdout)\(read.stderr)")

        // A new agent process knows nothing of what it stored: the objects' metadata says.
        let port = Self.port(of: agent.url)
        agent.process.signal(SIGTERM)
        _ = try agent.process.wait(timeout: .seconds(30))
        agent = try Self.s3Agent(dir, server, name: "bucket", port: port)
        let (code, log) = try Scenario.coordinator(["--once", "--listen", "127.0.0.1:0", "--agent", agent.url, source, "acq.zarr"], in: dir, name: "again")
        #expect(code == 0 && log.contains("copied 0 files") && log.contains("\(original.count) already there"), "\(log)")

        // The server and the agent restarted: what the server kept decides what is sent.
        agent.process.signal(SIGTERM)
        _ = try agent.process.wait(timeout: .seconds(30))
        server.stop()
        try server.start()
        let kept = try s3.head("lab/acq.zarr/" + sample)?.metadata["softcopy-xxh3"] != nil
        #expect(kept == (kind == .seaweedfs), "user metadata kept across a restart: \(kept)")
        agent = try Self.s3Agent(dir, server, name: "bucket", port: port)
        // verify re-reads every object, metadata or not: whole either way.
        let verify = try ChildProcess.run([Tools.coordinator, "verify", "--no-discovery", "--progress", "never", "--agent", agent.url, source, "acq.zarr"],
                                          timeout: .seconds(120))
        #expect(verify.code == 0 && verify.stdout.contains("whole"), "\(verify.stdout)\(verify.stderr)")
        let (thirdCode, third) = try Scenario.coordinator(["--once", "--listen", "127.0.0.1:0", "--agent", agent.url, source, "acq.zarr"], in: dir, name: "third")
        #expect(thirdCode == 0, "\(third)")
        #expect(third.contains(kept ? "copied 0 files" : "copied \(original.count) files"), "\(third)")
        let after = try Self.objects(server, prefix: "lab/acq.zarr")
        #expect(Set(after.keys) == Set(original.keys) && original.allSatisfy { after[$0.key] == $0.value })
        #expect(try s3.head("lab/acq.zarr/" + sample)?.metadata["softcopy-xxh3"] == XXH3Hasher.checksum(original[sample]!).hex)
    }

    @Test("An S3 agent and a folder agent at once (balanced): both hold part, and the bucket's objects and the folder's files together are the source, byte for byte")
    func s3AndFolderAgents() throws {
        let dir = TestDirectory("s3-mixed")
        let server = try S3Server(in: dir)
        let source = dir.appending("src.zarr")
        try Scenario.writeArchive(source, ["--shape", "8,2,64,64", "--chunks", "1,1,32,32", "--complete"])
        let bucketAgent = try Self.s3Agent(dir, server, name: "bucket")
        let folderAgent = try AgentProcess(in: dir, name: "folder")
        let (code, log) = try Scenario.coordinator(["--once", "--listen", "127.0.0.1:0", "--placement", "balanced",
                                                    "--agent", bucketAgent.url, "--agent", folderAgent.url, source, "acq.zarr"], in: dir)
        #expect(code == 0, "\(log)")
        let original = try TreeComparison.files(source)
        let inBucket = try Self.objects(server, prefix: "lab/acq.zarr")
        let inFolder = try folderAgent.files("acq.zarr")
        #expect(!inBucket.isEmpty && !inFolder.isEmpty, "both hold part: \(inBucket.count) objects, \(inFolder.count) files")
        var union = inFolder
        for (key, bytes) in inBucket { union[key] = bytes }
        #expect(Set(union.keys) == Set(original.keys) && original.allSatisfy { union[$0.key] == $0.value })
        #expect(Set(inBucket.keys).isDisjoint(with: inFolder.keys), "each key on one node")
        // The read view at either agent serves the whole archive: keys in the bucket from
        // the bucket (streamed), the others passed through from the folder agent.
        for agent in [bucketAgent, folderAgent] {
            let read = try ChildProcess.run([Tools.python, Tools.readView, agent.url + "/zarr/acq.zarr", source, "--report", dir.appending("view.json"),
                                             "--timeout", "60"], timeout: .seconds(120))
            #expect(read.code == 0, "\(agent.url): \(read.stdout)\(read.stderr)")
        }
        let key = try #require(inBucket.keys.filter { $0.hasPrefix("c/") }.sorted().first)
        let ranged = try Self.get(bucketAgent.url + "/zarr/acq.zarr/" + key, headers: ["Range: bytes=-10"])
        #expect(ranged.status == 206 && ranged.body == Array(original[key]!.suffix(10)) && ranged.header("etag") == "\"xxh3-\(XXH3Hasher.checksum(original[key]!).hex)\"")
    }
}

extension IntegrationTests {
    @Test("Shards above the multipart threshold go up in parts (ETag '-N' on SeaweedFS), whole and equal; an upload an earlier agent left unfinished is aborted when the agent starts, and never becomes an object",
          arguments: S3Server.Kind.allCases)
    func s3MultipartShards(kind: S3Server.Kind) throws {
        let dir = TestDirectory("s3-shards-\(kind)")
        let server = try S3Server(in: dir, kind: kind)
        // A crashed agent's upload: begun, one part sent, never completed.
        let s3 = server.client()
        let leftover = try s3.createMultipartUpload("lab/acq.zarr/c/9/0/0/0")
        _ = try s3.uploadPart("lab/acq.zarr/c/9/0/0/0", uploadId: leftover, number: 1, [UInt8](repeating: 1, count: 5 << 20))
        let source = dir.appending("src.zarr")
        // 8 MiB shards of raw uint16: two parts each at a 5 MiB threshold.
        try Scenario.writeArchive(source, ["--shape", "2,8,512,1024", "--chunks", "1,1,512,1024", "--shards", "1,8,512,1024", "--complete"])
        let agent = try Self.s3Agent(dir, server, name: "bucket", extra: ["--s3-multipart-threshold", "5MiB"])
        try ChildProcess.waitUntil(timeout: .seconds(30), "the agent to abort the leftover upload") {
            agent.process.stderr.contains("aborted 1 multipart uploads")
        }
        #expect(try s3.pendingUploads(prefix: "lab/").isEmpty && s3.head("lab/acq.zarr/c/9/0/0/0") == nil)
        let (code, log) = try Scenario.coordinator(["--once", "--listen", "127.0.0.1:0", "--agent", agent.url, source, "acq.zarr"], in: dir)
        #expect(code == 0, "\(log)")
        let original = try TreeComparison.files(source)
        let stored = try Self.objects(server, prefix: "lab/acq.zarr")
        #expect(Set(stored.keys) == Set(original.keys) && original.allSatisfy { stored[$0.key] == $0.value })
        let shards = original.filter { $0.value.count > 5 << 20 }.keys.sorted()
        #expect(shards.count == 2, "\(original.mapValues(\.count))")
        // rclone's ETag for a multipart upload is the whole's MD5: no count of parts to see.
        if kind == .seaweedfs {
            for shard in shards { #expect(try s3.head("lab/acq.zarr/" + shard)?.etag.hasSuffix("-2") == true, "\(shard) went up in two parts") }
        }
        #expect(try s3.pendingUploads(prefix: "lab/").isEmpty)
    }
}

extension IntegrationTests {
    @Test("The S3 server stopped for a while in the middle of a live acquisition: uploads fail as transient and are retried, and the copy finishes, whole, once the server is back")
    func s3ServerAway() throws {
        let dir = TestDirectory("s3-away")
        let server = try S3Server(in: dir)
        let source = dir.appending("src.zarr")
        let agent = try Self.s3Agent(dir, server, name: "bucket")
        let coordinator = try Self.clusterCoordinator(dir, source, [agent])
        defer { coordinator.signal(SIGKILL) }
        let writer = try ChildProcess([Tools.python, Tools.acquire, source, "--shape", "24,2,64,64", "--chunks", "1,1,32,32", "--rate", "0.1", "--complete"],
                                      logPrefix: dir.appending("writer"))
        try ChildProcess.waitUntil(timeout: .seconds(60), "some objects in the bucket") {
            ((try? server.client().list(prefix: "lab/acq.zarr/c/").count) ?? 0) >= 8
        }
        server.stop()
        // The writer goes on; what it writes now cannot be uploaded until the server is back.
        try ChildProcess.waitUntil(timeout: .seconds(60), "an upload to fail for want of the server") {
            coordinator.stderr.contains("Couldn't connect") || coordinator.stderr.contains("Failed to connect")
        }
        #expect(writer.isRunning || coordinator.isRunning)
        try server.start()
        #expect(try writer.wait(timeout: .seconds(120)) == 0, "\(writer.stderr)")
        #expect(try coordinator.wait(timeout: .seconds(180)) == 0, "\(coordinator.stderr)")
        let original = try TreeComparison.files(source)
        let stored = try Self.objects(server, prefix: "lab/acq.zarr")
        #expect(Set(stored.keys) == Set(original.keys) && original.allSatisfy { stored[$0.key] == $0.value })
    }
}

extension IntegrationTests {
    @Test("A bucket agent and the coordinator SIGKILLed in the middle of a live acquisition with multipart shards, then restarted: no upload left unfinished, the copy whole in the bucket, and what the bucket held verified is not sent again")
    func s3CrashRestart() throws {
        let dir = TestDirectory("s3-crash")
        let server = try S3Server(in: dir)
        let source = dir.appending("src.zarr")
        var agent = try Self.s3Agent(dir, server, name: "bucket", extra: ["--s3-multipart-threshold", "5MiB"])
        let port = Self.port(of: agent.url)
        // 8 MiB shards, each written in 8 partial writes: multipart uploads under way all along.
        let writer = try ChildProcess([Tools.python, Tools.acquire, source, "--shape", "12,8,512,1024", "--chunks", "1,1,512,1024",
                                       "--shards", "1,8,512,1024", "--rate", "20", "--complete"], logPrefix: dir.appending("writer"))
        let first = try Self.clusterCoordinator(dir, source, [agent])
        try ChildProcess.waitUntil(timeout: .seconds(90), "some shards in the bucket") {
            ((try? server.client().list(prefix: "lab/acq.zarr/c/").count) ?? 0) >= 2
        }
        agent.process.signal(SIGKILL)
        _ = try agent.process.wait(timeout: .seconds(10))
        first.signal(SIGKILL)
        _ = try first.wait(timeout: .seconds(10))
        #expect(writer.isRunning, "the kills fall while the acquisition runs")
        agent = try Self.s3Agent(dir, server, name: "bucket", port: port, extra: ["--s3-multipart-threshold", "5MiB"])
        let last = try ChildProcess(
            [Tools.coordinator, "--no-discovery", "--wait-for-source", "--progress", "never", "--listen", "127.0.0.1:0", "--agent", agent.url, source, "acq.zarr"],
            logPrefix: dir.appending("coordinator-last"))
        defer { last.signal(SIGKILL) }
        #expect(try writer.wait(timeout: .seconds(180)) == 0, "\(writer.stderr)")
        #expect(try last.wait(timeout: .seconds(180)) == 0, "\(last.stderr)")
        let original = try TreeComparison.files(source)
        let stored = try Self.objects(server, prefix: "lab/acq.zarr")
        #expect(Set(stored.keys) == Set(original.keys) && original.allSatisfy { stored[$0.key] == $0.value })
        #expect(try server.client().pendingUploads(prefix: "lab/").isEmpty, "no multipart upload left unfinished")
        let summary = last.stderr.split(separator: "\n").first { $0.contains(" already there") } ?? ""
        let already = summary.split(separator: ",").first { $0.hasSuffix(" already there") }?.split(separator: " ").first.flatMap { Int($0) } ?? 0
        #expect(already >= 2, "what the bucket held verified was not sent again: \(summary)")
    }
}

extension IntegrationTests {
    @Test("A bucket agent away at the end of a run whose chunks got new versions on a folder agent: the run names what the bucket may still hold, and the next run removes those superseded objects from the bucket, each key on exactly one node")
    func s3SupersededRemoved() throws {
        let dir = TestDirectory("s3-superseded")
        let server = try S3Server(in: dir)
        let source = dir.appending("src.zarr")
        try Scenario.writeArchive(source, ["--shape", "16,2,64,64", "--chunks", "1,2,64,64"])
        let folder = try AgentProcess(in: dir, name: "folder")
        var bucket = try Self.s3Agent(dir, server, name: "bucket")
        let port = Self.port(of: bucket.url)
        let coordinator = try Self.clusterCoordinator(dir, source, [bucket, folder], placement: "locality")
        defer { coordinator.signal(SIGKILL) }
        func union() -> [String: [UInt8]] {
            var all = (try? folder.files("acq.zarr")) ?? [:]
            for (key, bytes) in (try? Self.objects(server, prefix: "lab/acq.zarr")) ?? [:] { all[key] = bytes }
            return all
        }
        let original = try TreeComparison.files(source)
        try ChildProcess.waitUntil(timeout: .seconds(60), "the archive on the two agents") { union() == original }
        let held = try Self.objects(server, prefix: "lab/acq.zarr").keys.filter { $0.hasPrefix("c/") }.sorted()
        #expect(held.count >= 2, "the bucket holds chunks: \(held)")
        bucket.process.signal(SIGKILL)
        _ = try bucket.process.wait(timeout: .seconds(10))
        // New versions of the bucket's chunks can only go to the folder agent now.
        for key in held {
            let file = source + "/" + key
            TestDirectory.write(bytes: try readSmallFile(file).map { $0 ^ 0x3C }, to: file + ".__lock")
            #expect(rename(file + ".__lock", file) == 0)
        }
        TestDirectory.write("", to: source + "/complete")
        #expect(try coordinator.wait(timeout: .seconds(120)) == 0, "\(coordinator.stderr)")
        #expect(coordinator.stderr.contains("bucket was not reachable at the end: it may still hold superseded copies"), "\(coordinator.stderr)")
        #expect(try Self.objects(server, prefix: "lab/acq.zarr").keys.filter(held.contains).count == held.count, "the older objects are still there")

        bucket = try Self.s3Agent(dir, server, name: "bucket", port: port)
        let (again, log) = try Scenario.coordinator(["--once", "--listen", "127.0.0.1:0", "--placement", "locality",
                                                     "--agent", bucket.url, "--agent", folder.url, source, "acq.zarr"], in: dir, name: "again")
        #expect(again == 0 && !log.contains("not reachable"), "\(log)")
        let inBucket = try Self.objects(server, prefix: "lab/acq.zarr"), inFolder = try folder.files("acq.zarr")
        #expect(Set(inBucket.keys).isDisjoint(with: inFolder.keys), "each key on one node: \(Set(inBucket.keys).intersection(inFolder.keys).sorted())")
        let final = try TreeComparison.files(source)
        var all = inFolder
        for (key, bytes) in inBucket { all[key] = bytes }
        #expect(all == final)
    }
}
