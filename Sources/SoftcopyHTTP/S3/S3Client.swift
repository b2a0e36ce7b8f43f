public import SoftcopyCore
import SoftcopyIO

/// An S3 bucket over libcurl with AWS Signature Version 4: the object operations an agent
/// needs. Every PUT carries the body's SHA-256 (signed), its MD5 (`Content-MD5`) and its
/// CRC-32C (`x-amz-checksum-crc32c`), so a body damaged on the way is refused by the
/// server and never becomes an object. Blocking, one connection kept alive: one client
/// per thread, as `HTTPClient`.
public final class S3Client {
    public let endpoint: String
    public let bucket: String
    private let client: HTTPClient
    private let timeout: Duration

    public static let emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    /// `endpoint` is the server's base URL (`http://127.0.0.1:8333`); objects are
    /// addressed path-style (`ENDPOINT/BUCKET/KEY`), which every S3 server accepts.
    public init(endpoint: String, bucket: String, credentials: HTTPClient.SigV4, caFile: String? = nil, timeout: Duration = .seconds(60)) {
        self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        self.bucket = bucket
        self.client = HTTPClient(token: nil, caFile: caFile, sigV4: credentials)
        self.timeout = timeout
    }

    /// The URL of `key` with `query` in the canonical form SigV4 signs: names sorted,
    /// names and values encoded (slashes too).
    func url(_ key: String, query: [(String, String)] = []) -> String {
        let path = endpoint + "/" + bucket + (key.isEmpty ? "" : "/" + URLCoding.encodePath(key))
        guard !query.isEmpty else { return path }
        let parts = query.sorted { $0.0 < $1.0 }.map { URLCoding.encodeComponent($0.0) + "=" + URLCoding.encodeComponent($0.1) }
        return path + "?" + parts.joined(separator: "&")
    }

    /// Stores `body` as `key` with `metadata` (`x-amz-meta-NAME`); the object's ETag.
    @discardableResult
    public func put(_ key: String, _ body: [UInt8], metadata: [(String, String)] = []) throws(S3Error) -> String {
        var headers = digestHeaders(body)
        headers += metadata.map { "x-amz-meta-\($0.0): \($0.1)" }
        let response = try send("PUT", key, headers: headers, body: body)
        return response.header("etag").map(Self.unquoted) ?? ""
    }

    /// What `HEAD` says of `key`: its size, ETag and metadata (names lower-cased, without
    /// `x-amz-meta-`); nil when there is no such object.
    public func head(_ key: String) throws(S3Error) -> (size: UInt64, etag: String, metadata: [String: String])? {
        let response = try send("HEAD", key, accepting: [200, 404])
        guard response.status == 200 else { return nil }
        var metadata: [String: String] = [:]
        for (name, value) in response.headers where name.hasPrefix("x-amz-meta-") {
            metadata[String(name.dropFirst("x-amz-meta-".count))] = value
        }
        return (response.header("content-length").flatMap { UInt64($0) } ?? 0, response.header("etag").map(Self.unquoted) ?? "", metadata)
    }

    /// `key`'s bytes (those of `range` only, if given: inclusive offsets); nil when there
    /// is no such object.
    public func get(_ key: String, range: ClosedRange<UInt64>? = nil) throws(S3Error) -> [UInt8]? {
        let headers = range.map { ["Range: bytes=\($0.lowerBound)-\($0.upperBound)"] } ?? []
        let response = try send("GET", key, headers: headers, accepting: [200, 206, 404])
        return response.status == 404 ? nil : response.body
    }

    /// `key`'s bytes (a range of them) streamed to `sink` as they arrive; `onHead` sees the
    /// status and headers first and may refuse them. The answer (the body of an error).
    public func download(_ key: String, range: ClosedRange<UInt64>? = nil, stallTimeout: Duration = .seconds(30),
                         onHead: @escaping (Int, [(name: String, value: String)]) -> Bool,
                         sink: (UnsafeRawBufferPointer) -> Bool) throws(S3Error) -> HTTPClientResponse {
        var headers = ["x-amz-content-sha256: \(Self.emptySHA256)"]
        if let range { headers.append("Range: bytes=\(range.lowerBound)-\(range.upperBound)") }
        do {
            return try client.download(url(key), headers: headers, stallTimeout: stallTimeout, onHead: onHead, sink: sink)
        } catch {
            throw S3Error(status: 0, code: "", message: error.message, request: "GET s3://\(bucket)/\(key)")
        }
    }

    /// Removes `key` (S3 answers 204 whether or not it existed).
    public func delete(_ key: String) throws(S3Error) {
        _ = try send("DELETE", key, accepting: [200, 204])
    }

    /// Every object under `prefix` (`ListObjectsV2`, page after page of up to `pageSize`).
    public func list(prefix: String, pageSize: Int = 1000) throws(S3Error) -> [S3ObjectList.Object] {
        var all: [S3ObjectList.Object] = []
        try forEachPage(prefix: prefix, pageSize: pageSize) { all += $0 }
        return all
    }

    /// The objects under `prefix` a page at a time, for walks that need not hold them all.
    public func forEachPage(prefix: String, pageSize: Int = 1000, _ body: ([S3ObjectList.Object]) -> Void) throws(S3Error) {
        var token: String?
        repeat {
            var query = [("list-type", "2"), ("prefix", prefix), ("max-keys", String(pageSize))]
            if let token { query.append(("continuation-token", token)) }
            let response = try send("GET", "", query: query)
            do {
                let page = try S3ObjectList(xml: response.body)
                body(page.objects)
                token = page.continuationToken
            } catch {
                throw S3Error(status: response.status, code: "", message: error.message, request: "list s3://\(bucket)/\(prefix)")
            }
        } while token != nil
    }

    // MARK: -

    func send(_ method: String, _ key: String, query: [(String, String)] = [], headers: [String] = [], body: [UInt8]? = nil,
                      accepting: Set<Int> = [200]) throws(S3Error) -> HTTPClientResponse {
        var headers = headers
        if !headers.contains(where: { $0.hasPrefix("x-amz-content-sha256:") }) { headers.append("x-amz-content-sha256: \(Self.emptySHA256)") }
        let what = "\(method) s3://\(bucket)/\(key)"
        let response: HTTPClientResponse
        do {
            response = try client.request(method, url(key, query: query), headers: headers, body: body,
                                          contentType: body == nil ? nil : "application/octet-stream", timeout: timeout)
        } catch {
            throw S3Error(status: 0, code: "", message: error.message, request: what)
        }
        guard accepting.contains(response.status) else {
            let document = S3XML(response.body)
            throw S3Error(status: response.status, code: document.value("Code") ?? "", message: document.value("Message") ?? "", request: what)
        }
        return response
    }

    /// The body's SHA-256 (signed), MD5 and CRC-32C: the server refuses a body that does
    /// not match them.
    func digestHeaders(_ body: [UInt8], crc: Bool = true) -> [String] {
        [
            "x-amz-content-sha256: \(DigestHasher.hex(DigestHasher.digest(.sha256, of: body)))",
            "Content-MD5: \(Base64.encode(DigestHasher.digest(.md5, of: body)))",
        ] + (crc ? ["x-amz-checksum-crc32c: \(CRC32C.of(body).base64)"] : [])
    }

    public static func unquoted(_ etag: String) -> String {
        etag.count >= 2 && etag.hasPrefix("\"") && etag.hasSuffix("\"") ? String(etag.dropFirst().dropLast()) : etag
    }
}

// MARK: - Multipart upload

extension S3Client {
    /// An upload under way that was never completed or aborted.
    public struct PendingUpload: Sendable, Equatable {
        public var key: String
        public var uploadId: String
        /// When it began, as the server writes it (ISO 8601, UTC).
        public var initiated: String
    }

    /// Begins a multipart upload of `key` with `metadata`; its upload id.
    public func createMultipartUpload(_ key: String, metadata: [(String, String)] = []) throws(S3Error) -> String {
        let response = try send("POST", key, query: [("uploads", "")], headers: metadata.map { "x-amz-meta-\($0.0): \($0.1)" }, body: [])
        guard let id = S3XML(response.body).value("UploadId"), !id.isEmpty else {
            throw S3Error(status: response.status, code: "", message: "the answer names no UploadId", request: "create upload s3://\(bucket)/\(key)")
        }
        return id
    }

    /// Uploads part `number` (from 1) with its digests, which the server verifies; its ETag.
    public func uploadPart(_ key: String, uploadId: String, number: Int, _ body: [UInt8]) throws(S3Error) -> String {
        let response = try send("PUT", key, query: [("partNumber", String(number)), ("uploadId", uploadId)], headers: digestHeaders(body), body: body)
        return response.header("etag").map(Self.unquoted) ?? ""
    }

    /// Joins the parts into the object; until then nothing of it is visible under `key`.
    public func completeMultipartUpload(_ key: String, uploadId: String, parts: [(number: Int, etag: String)]) throws(S3Error) {
        var xml = "<CompleteMultipartUpload>"
        for part in parts { xml += "<Part><PartNumber>\(part.number)</PartNumber><ETag>\"\(part.etag)\"</ETag></Part>" }
        xml += "</CompleteMultipartUpload>"
        let body = Array(xml.utf8)
        let response = try send("POST", key, query: [("uploadId", uploadId)], headers: digestHeaders(body, crc: false), body: body)
        // A completion can fail after a 200 has begun: the error is in the body.
        let document = S3XML(response.body)
        if let code = document.value("Code") {
            throw S3Error(status: response.status, code: code, message: document.value("Message") ?? "", request: "complete upload s3://\(bucket)/\(key)")
        }
    }

    /// Abandons an upload and frees its parts.
    public func abortMultipartUpload(_ key: String, uploadId: String) throws(S3Error) {
        _ = try send("DELETE", key, query: [("uploadId", uploadId)], accepting: [200, 204, 404])
    }

    /// Uploads under `prefix` never completed or aborted (`ListMultipartUploads`).
    public func pendingUploads(prefix: String) throws(S3Error) -> [PendingUpload] {
        var all: [PendingUpload] = []
        var markers: (key: String, id: String)?
        repeat {
            var query = [("uploads", ""), ("prefix", prefix)]
            if let markers { query += [("key-marker", markers.key), ("upload-id-marker", markers.id)] }
            let response = try send("GET", "", query: query)
            let document = S3XML(response.body)
            for upload in document.children("Upload") {
                guard let key = upload.value("Key"), let id = upload.value("UploadId") else { continue }
                all.append(PendingUpload(key: key, uploadId: id, initiated: upload.value("Initiated") ?? ""))
            }
            let next = (document.value("NextKeyMarker") ?? "", document.value("NextUploadIdMarker") ?? "")
            markers = document.value("IsTruncated") == "true" && !next.0.isEmpty ? (key: next.0, id: next.1) : nil
        } while markers != nil
        return all
    }
}
