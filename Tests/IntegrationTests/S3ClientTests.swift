import Glibc
import Testing
import SoftcopyCore
import SoftcopyHTTP
import SoftcopyIO
import SoftcopyTesting

extension IntegrationTests {
    @Test("The S3 client against two real S3 servers (SeaweedFS, rclone serve s3): PUT with its checksums and metadata, HEAD, GET of a range, a paged listing, DELETE; keys with spaces and non-ASCII names signed right; a wrong secret refused (403), a wrong Content-MD5 (and CRC-32C, where the server checks it) refused (400 BadDigest) and never stored",
          arguments: S3Server.Kind.allCases)
    func s3Client(kind: S3Server.Kind) throws {
        let dir = TestDirectory("s3-client-\(kind)")
        let server = try S3Server(in: dir, kind: kind)
        let s3 = server.client()
        // Above libcurl's 1 MiB threshold for "Expect: 100-continue", which must be signed right too.
        let body = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 8) }
        let etag = try s3.put("acq.zarr/c/0/0", body, metadata: [("softcopy-version", "1:2:3:4"), ("softcopy-xxh3", XXH3Hasher.checksum(body).hex)])
        #expect(etag == DigestHasher.hex(DigestHasher.digest(.md5, of: body)))
        let head = try #require(try s3.head("acq.zarr/c/0/0"))
        #expect(head.size == UInt64(body.count) && head.etag == etag)
        #expect(head.metadata["softcopy-version"] == "1:2:3:4" && head.metadata["softcopy-xxh3"] == XXH3Hasher.checksum(body).hex, "\(head.metadata)")
        #expect(try s3.get("acq.zarr/c/0/0") == body)
        if kind == .rclone {
            // rclone keeps the PUT's headers and answers them on HEAD: the signed SHA-256 the
            // client sent is the body's (neither server here checks it; AWS, MinIO and Ceph do).
            let raw = try HTTPClient(token: nil, sigV4: server.credentials).request(
                "HEAD", server.endpoint + "/" + server.bucket + "/acq.zarr/c/0/0", headers: ["x-amz-content-sha256: \(S3Client.emptySHA256)"],
                body: nil, contentType: nil, timeout: .seconds(30))
            #expect(raw.header("x-amz-content-sha256") == DigestHasher.hex(DigestHasher.digest(.sha256, of: body)), "\(raw.headers)")
        }
        #expect(try s3.get("acq.zarr/c/0/0", range: 10...19) == Array(body[10...19]))
        #expect(try s3.head("acq.zarr/none") == nil && s3.get("acq.zarr/none") == nil)

        // Names that must be encoded exactly as they are signed.
        let names = ["acq.zarr/zarr.json", "acq.zarr/a b/c+d", "acq.zarr/café/ü", "acq.zarr/x=y&z", "acq.zarr/~tilde_-."]
        for name in names { try s3.put(name, Array(name.utf8)) }
        for name in names { #expect(try s3.get(name) == Array(name.utf8), "\(name)") }
        // Paged: two objects a page, every one found once.
        let listed = try s3.list(prefix: "acq.zarr/", pageSize: 2)
        #expect(listed.map(\.key).sorted() == (names + ["acq.zarr/c/0/0"]).sorted(), "\(listed.map(\.key))")
        #expect(listed.first { $0.key == "acq.zarr/c/0/0" }?.size == UInt64(body.count))
        #expect(try s3.list(prefix: "acq.zarr/c/").map(\.key) == ["acq.zarr/c/0/0"])

        try s3.delete("acq.zarr/c/0/0")
        #expect(try s3.head("acq.zarr/c/0/0") == nil)

        // Refusals, each by the server's own code, and nothing stored.
        var wrong = server.credentials
        wrong.secretKey += "x"
        #expect(throws: S3Error.self) { try server.client(credentials: wrong).put("acq.zarr/forged", [1, 2, 3]) }
        do {
            try server.client(credentials: wrong).put("acq.zarr/forged", [1, 2, 3])
        } catch {
            #expect(error.status == 403 && !error.isTransient, "\(error)")
        }
        let raw = HTTPClient(token: nil, sigV4: server.credentials)
        let sha = DigestHasher.hex(DigestHasher.digest(.sha256, of: [1, 2, 3]))
        var damaged = [("Content-MD5", Base64.encode(DigestHasher.digest(.md5, of: [9, 9, 9])))]
        if server.verifiesCRC32C { damaged.append(("x-amz-checksum-crc32c", CRC32C.of([9, 9, 9]).base64)) }
        for (header, value) in damaged {
            let r = try raw.request("PUT", server.endpoint + "/" + server.bucket + "/acq.zarr/damaged", headers: ["x-amz-content-sha256: \(sha)", "\(header): \(value)"],
                                    body: [1, 2, 3], contentType: "application/octet-stream", timeout: .seconds(30))
            #expect(r.status == 400 && S3XML(r.body).value("Code") == "BadDigest", "\(header): \(r.status) \(r.bodyText)")
        }
        #expect(try s3.head("acq.zarr/damaged") == nil && s3.head("acq.zarr/forged") == nil)
        // A bucket that does not exist is named, and is no reason to try again.
        do {
            _ = try S3Client(endpoint: server.endpoint, bucket: "no-such-bucket", credentials: server.credentials).list(prefix: "")
            Issue.record("listing a missing bucket succeeded")
        } catch {
            #expect(error.code == "NoSuchBucket" && !error.isTransient, "\(error)")
        }
    }
}

extension IntegrationTests {
    @Test("Multipart upload against two real S3 servers: parts joined only at completion (nothing visible before), an aborted upload leaves no object and no pending upload, and pending uploads are listed",
          arguments: S3Server.Kind.allCases)
    func s3Multipart(kind: S3Server.Kind) throws {
        let dir = TestDirectory("s3-multipart-\(kind)")
        let server = try S3Server(in: dir, kind: kind)
        let s3 = server.client()
        let body = (0..<(6 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 12) }
        let id = try s3.createMultipartUpload("lab/big", metadata: [("softcopy-xxh3", XXH3Hasher.checksum(body).hex)])
        let first = try s3.uploadPart("lab/big", uploadId: id, number: 1, Array(body[..<(5 << 20)]))
        #expect(try s3.head("lab/big") == nil, "nothing visible before the completion")
        #expect(try s3.pendingUploads(prefix: "lab/").map(\.uploadId) == [id])
        let second = try s3.uploadPart("lab/big", uploadId: id, number: 2, Array(body[(5 << 20)...]))
        try s3.completeMultipartUpload("lab/big", uploadId: id, parts: [(1, first), (2, second)])
        #expect(try s3.get("lab/big") == body)
        let head = try #require(try s3.head("lab/big"))
        // S3's multipart ETag is "MD5 of the parts' MD5s-N"; rclone gives the whole's MD5.
        let whole = DigestHasher.hex(DigestHasher.digest(.md5, of: body))
        #expect((head.etag.hasSuffix("-2") || head.etag == whole) && head.metadata["softcopy-xxh3"] == XXH3Hasher.checksum(body).hex, "\(head)")
        #expect(try s3.pendingUploads(prefix: "lab/").isEmpty)

        let abandoned = try s3.createMultipartUpload("lab/abandoned")
        _ = try s3.uploadPart("lab/abandoned", uploadId: abandoned, number: 1, Array(body[..<(5 << 20)]))
        try s3.abortMultipartUpload("lab/abandoned", uploadId: abandoned)
        #expect(try s3.head("lab/abandoned") == nil && s3.pendingUploads(prefix: "lab/").isEmpty)
    }
}
