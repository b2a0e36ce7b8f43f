import CCurl
import CCurlShims
import Glibc
public import SoftcopyCore

/// A libcurl easy handle: one connection kept alive across requests to the same host.
/// Blocking: each thread that talks HTTP owns one (never the Swift concurrency pool).
/// Not Sendable, on purpose.
public final class HTTPClient {
    private let handle: UnsafeMutableRawPointer
    private let token: String?
    private let signsV4: Bool
    private let context = TransferContext()
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)

    static let globalInit: Bool = {
        // With CURLOPT_NOSIGNAL (required with threads) libcurl no longer shields us from
        // SIGPIPE: a peer that hangs up mid-request would kill the whole process.
        signal(SIGPIPE, SIG_IGN)
        return curl_global_init(Int(CURL_GLOBAL_ALL)) == CURLE_OK
    }()

    /// AWS Signature Version 4 for S3 servers, computed by libcurl (`CURLOPT_AWS_SIGV4`).
    /// libcurl 7.88 signs `x-amz-content-sha256` only when the request carries it, and
    /// servers refuse a request without it: every S3 request sets it (`S3Client`).
    public struct SigV4: Sendable {
        public var region: String
        public var accessKey: String
        public var secretKey: String

        public init(region: String, accessKey: String, secretKey: String) {
            self.region = region
            self.accessKey = accessKey
            self.secretKey = secretKey
        }
    }

    /// `token` is sent as `Authorization: Bearer` on every request; `sigV4` signs every
    /// request instead. `https://` URLs are verified (certificate chain and host name)
    /// against `caFile`, or the system's CAs.
    public init(token: String?, caFile: String? = nil, sigV4: SigV4? = nil) {
        _ = Self.globalInit
        guard let h = curl_easy_init() else { fatalError("curl_easy_init failed (out of memory)") }
        handle = h
        self.token = token
        self.signsV4 = sigV4 != nil
        softcopy_curl_setopt_long(h, CURLOPT_NOSIGNAL, 1)
        softcopy_curl_setopt_long(h, CURLOPT_TCP_NODELAY, 1)
        softcopy_curl_setopt_long(h, CURLOPT_TCP_KEEPALIVE, 1)
        softcopy_curl_setopt_long(h, CURLOPT_BUFFERSIZE, 512 * 1024)
        softcopy_curl_setopt_long(h, CURLOPT_CONNECTTIMEOUT_MS, 5000)
        softcopy_curl_setopt_long(h, CURLOPT_SSL_VERIFYPEER, 1)
        softcopy_curl_setopt_long(h, CURLOPT_SSL_VERIFYHOST, 2)
        if let caFile { softcopy_curl_setopt_string(h, CURLOPT_CAINFO, caFile) }
        if let sigV4 {
            softcopy_curl_setopt_string(h, CURLOPT_AWS_SIGV4, "aws:amz:\(sigV4.region):s3")
            softcopy_curl_setopt_string(h, CURLOPT_USERNAME, sigV4.accessKey)
            softcopy_curl_setopt_string(h, CURLOPT_PASSWORD, sigV4.secretKey)
        }
        softcopy_curl_setopt_write_function(h, { data, size, count, userdata in
            let context = Unmanaged<TransferContext>.fromOpaque(userdata!).takeUnretainedValue()
            return context.receiveBody(UnsafeRawBufferPointer(start: data, count: size * count)) ? size * count : 0
        })
        softcopy_curl_setopt_header_function(h, { data, size, count, userdata in
            let context = Unmanaged<TransferContext>.fromOpaque(userdata!).takeUnretainedValue()
            return context.receiveHeader(UnsafeRawBufferPointer(start: data, count: size * count)) ? size * count : 0
        })
        softcopy_curl_setopt_xferinfo_function(h, { userdata, _, _, _, _ in
            let context = Unmanaged<TransferContext>.fromOpaque(userdata!).takeUnretainedValue()
            return context.isCancelled?() == true ? 1 : 0
        })
        let opaque = Unmanaged.passUnretained(context).toOpaque()
        softcopy_curl_setopt_pointer(h, CURLOPT_XFERINFODATA, opaque)
        softcopy_curl_setopt_pointer(h, CURLOPT_WRITEDATA, opaque)
        softcopy_curl_setopt_pointer(h, CURLOPT_HEADERDATA, opaque)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        softcopy_curl_setopt_pointer(h, CURLOPT_ERRORBUFFER, errorBuffer)
    }

    /// Asked during each request from now on (at least once a second): true aborts it
    /// (an error with code CURLE_ABORTED_BY_CALLBACK). Nil: requests run to their end.
    public var isCancelled: (() -> Bool)? {
        get { context.isCancelled }
        set { context.isCancelled = newValue }
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    /// A request whose answer is collected in memory (control messages, listings).
    public func request(
        _ method: String, _ url: String, json: JSONValue? = nil, headers: [String] = [], timeout: Duration
    ) throws(HTTPClientError) -> HTTPClientResponse {
        let body = json.map { Array(($0.serialized()).utf8) }
        return try perform(method, url, body: body, contentType: json == nil ? nil : "application/json", headers: headers,
                           timeout: timeout, stallTimeout: nil, sink: nil)
    }

    /// A request with headers of its own (`Range: …`, `If-None-Match: …`, an S3 PUT's
    /// checksums) and an optional body, its answer collected in memory; `HEAD` asks for
    /// no body.
    public func request(_ method: String, _ url: String, headers: [String], body: [UInt8]? = nil, contentType: String? = nil,
                        timeout: Duration) throws(HTTPClientError) -> HTTPClientResponse {
        try perform(method, url, body: body, contentType: contentType, headers: headers, timeout: timeout, stallTimeout: nil, sink: nil)
    }

    /// A request whose body is already written (a manifest of a million files).
    public func request(_ method: String, _ url: String, body: [UInt8], contentType: String = "application/json",
                        timeout: Duration) throws(HTTPClientError) -> HTTPClientResponse {
        try perform(method, url, body: body, contentType: contentType, timeout: timeout, stallTimeout: nil, sink: nil)
    }

    /// A GET whose 200 body goes to `sink` piece by piece as it arrives; returning false
    /// from the sink aborts the transfer. Other statuses' bodies are kept in the response.
    /// `stallTimeout`: give up when no byte arrived for this long (a large file may take
    /// longer than any fixed timeout, a dead peer must not take forever).
    /// `headers` are sent too (`Range: bytes=…`); a 206 goes to the sink like a 200.
    /// `onHead` sees the final status and headers before any body byte; false aborts.
    public func download(
        _ url: String, headers: [String] = [], stallTimeout: Duration,
        onHead: ((Int, [(name: String, value: String)]) -> Bool)? = nil, sink: (UnsafeRawBufferPointer) -> Bool
    ) throws(HTTPClientError) -> HTTPClientResponse {
        // The closures are only used during perform, and dropped before it returns.
        let result = withoutActuallyEscaping(sink) { escapable -> Result<HTTPClientResponse, HTTPClientError> in
            withoutActuallyEscaping(onHead ?? { _, _ in true }) { head in
                defer {
                    context.sink = nil
                    context.onHead = nil
                }
                context.onHead = onHead == nil ? nil : head
                do throws(HTTPClientError) {
                    return .success(try perform("GET", url, body: nil, contentType: nil, headers: headers, timeout: nil, stallTimeout: stallTimeout, sink: escapable))
                } catch {
                    return .failure(error)
                }
            }
        }
        return try result.get()
    }

    /// The local address of the last connection (the address a peer can reach us at).
    public var localIP: String? {
        var pointer: UnsafePointer<CChar>?
        guard softcopy_curl_getinfo_string(handle, CURLINFO_LOCAL_IP, &pointer) == CURLE_OK, let pointer else { return nil }
        let s = String(cString: pointer)
        return s.isEmpty ? nil : s
    }

    private func perform(
        _ method: String, _ url: String, body: [UInt8]?, contentType: String?, headers extra: [String] = [],
        timeout: Duration?, stallTimeout: Duration?, sink: ((UnsafeRawBufferPointer) -> Bool)?
    ) throws(HTTPClientError) -> HTTPClientResponse {
        context.reset(sink: sink)
        var list: UnsafeMutablePointer<curl_slist>?
        // No "Expect: 100-continue" round trip before a POST body. Not with SigV4: libcurl
        // 7.88 signs the emptied header it then leaves out, and the server answers 403.
        if !signsV4 { list = curl_slist_append(list, "Expect:") }
        if let token { list = curl_slist_append(list, "Authorization: Bearer \(token)") }
        if let contentType { list = curl_slist_append(list, "Content-Type: \(contentType)") }
        for header in extra { list = curl_slist_append(list, header) }
        defer { curl_slist_free_all(list) }

        softcopy_curl_setopt_string(handle, CURLOPT_URL, url)
        softcopy_curl_setopt_pointer(handle, CURLOPT_HTTPHEADER, list)
        softcopy_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, timeout.map { Int($0.secondsValue * 1000) } ?? 0)
        if let stallTimeout {
            softcopy_curl_setopt_long(handle, CURLOPT_LOW_SPEED_LIMIT, 1)
            softcopy_curl_setopt_long(handle, CURLOPT_LOW_SPEED_TIME, max(1, Int(stallTimeout.secondsValue)))
        } else {
            softcopy_curl_setopt_long(handle, CURLOPT_LOW_SPEED_LIMIT, 0)
            softcopy_curl_setopt_long(handle, CURLOPT_LOW_SPEED_TIME, 0)
        }
        // The progress callback only runs when a request may be cancelled.
        softcopy_curl_setopt_long(handle, CURLOPT_NOPROGRESS, context.isCancelled == nil ? 1 : 0)
        softcopy_curl_setopt_long(handle, CURLOPT_HTTPGET, 1)
        softcopy_curl_setopt_pointer(handle, CURLOPT_CUSTOMREQUEST, nil)
        if let body {
            softcopy_curl_setopt_long(handle, CURLOPT_POST, 1)
            softcopy_curl_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
            body.withUnsafeBufferPointer { buffer in
                _ = softcopy_curl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: buffer.baseAddress))
            }
        }
        if method == "HEAD" {
            softcopy_curl_setopt_long(handle, CURLOPT_NOBODY, 1)
        } else if method != "GET" && method != "POST" {
            softcopy_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, method)
        }
        errorBuffer[0] = 0
        let code = curl_easy_perform(handle)
        if code != CURLE_OK {
            let detail = String(cString: errorBuffer)
            let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
            throw HTTPClientError(code: Int(code.rawValue), message: message, url: url,
                                  abortedByCaller: code == CURLE_WRITE_ERROR && (context.sinkRefused || context.headRefused))
        }
        var status = 0
        softcopy_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        var response = HTTPClientResponse(status: status, headers: context.headers, body: context.body, bodyBytes: context.bodyBytes)
        var total: curl_off_t = 0, firstByte: curl_off_t = 0
        if softcopy_curl_getinfo_off(handle, CURLINFO_TOTAL_TIME_T, &total) == CURLE_OK,
           softcopy_curl_getinfo_off(handle, CURLINFO_STARTTRANSFER_TIME_T, &firstByte) == CURLE_OK, total > firstByte {
            response.bodySeconds = Double(total - firstByte) / 1e6
        }
        return response
    }
}

/// State of one transfer, reached from libcurl's C callbacks through their userdata.
final class TransferContext {
    var headers: [(name: String, value: String)] = []
    var body: [UInt8] = []
    var bodyBytes: UInt64 = 0
    var status = 0
    var sink: ((UnsafeRawBufferPointer) -> Bool)?
    var sinkRefused = false
    var onHead: ((Int, [(name: String, value: String)]) -> Bool)?
    var headRefused = false
    var isCancelled: (() -> Bool)?
    /// An error body is kept for the message, up to this much.
    static let errorBodyLimit = 64 << 10

    func reset(sink: ((UnsafeRawBufferPointer) -> Bool)?) {
        headers.removeAll(keepingCapacity: true)
        body.removeAll(keepingCapacity: true)
        bodyBytes = 0
        status = 0
        self.sink = sink
        sinkRefused = false
        headRefused = false
    }

    /// Room for the whole body at once, as the server announced it (up to 1 GiB): a listing
    /// of 100 MB grown by doubling is copied and faulted in twice over.
    private func reserveForContentLength() {
        guard let value = headers.last(where: { $0.0 == "content-length" })?.1, let length = Int(value), length > 0 else { return }
        body.reserveCapacity(min(length, 1 << 30))
    }

    /// False aborts the transfer (`onHead` refused the answer).
    func receiveHeader(_ line: UnsafeRawBufferPointer) -> Bool {
        // Strip CR LF as bytes: as a String, "\r\n" is one character and hasSuffix("\n") misses it.
        var end = line.count
        while end > 0, line[end - 1] == 0x0A || line[end - 1] == 0x0D { end -= 1 }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: line[..<end]), as: UTF8.self)
        if text.hasPrefix("HTTP/") {
            // A new response (after a 100 Continue or a redirect): start over.
            headers.removeAll(keepingCapacity: true)
            let parts = text.split(separator: " ")
            status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
            return true
        }
        if text.isEmpty, status >= 200, let onHead {
            // The blank line ends a final answer's headers (a 1xx answer's go on).
            headRefused = !onHead(status, headers)
            return !headRefused
        }
        guard let colon = text.firstIndex(of: ":") else { return true }
        let name = text[..<colon].lowercased()
        let value = text[text.index(after: colon)...].drop(while: { $0 == " " || $0 == "\t" })
        headers.append((name, String(value)))
        return true
    }

    func receiveBody(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bodyBytes &+= UInt64(bytes.count)
        if let sink, status == 200 || status == 206 {
            if !sink(bytes) {
                sinkRefused = true
                return false
            }
            return true
        }
        if sink == nil || body.count < Self.errorBodyLimit {
            if body.isEmpty, sink == nil { reserveForContentLength() }
            body.append(contentsOf: bytes)
        }
        return true
    }
}
