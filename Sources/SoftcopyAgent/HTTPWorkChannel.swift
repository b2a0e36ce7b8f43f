import Logging
import Synchronization
import SoftcopyCore
import SoftcopyHTTP
import SoftcopyIO

/// An agent's job reaches its coordinator over HTTP (docs/http-api.md): long-polled
/// leases, each chunk by GET (sendfile at the coordinator), small files in bundles, acks.
final class HTTPWorkChannel: WorkChannel {
    let attachment: JobAttachment
    private let token: String?
    /// CAs an https coordinator's certificate must chain to; nil: the system's.
    private let caFile: String?
    let logger: Logger
    /// Since when the coordinator has not answered (nil while it answers).
    let unansweredSince = Mutex<MonotonicInstant?>(nil)
    /// The link from the coordinator, as chunks arrive over it: the coordinator compresses
    /// raw chunks when it is slow (`WireCompressionPolicy`).
    private let linkMeter = Mutex(LinkMeter())

    static let longPoll: Duration = .seconds(20)
    /// A coordinator unreachable this long has gone for good; its job is dropped.
    static let abandonAfter: Duration = .seconds(600)
    static let stallTimeout: Duration = .seconds(30)
    /// A bundle is at most `BundleRequest.bundleLimit` bytes.
    static let bundleTimeout: Duration = .seconds(120)

    init(attachment: JobAttachment, token: String?, caFile: String?, logger: Logger) {
        self.attachment = attachment
        self.token = token
        self.caFile = caFile
        self.logger = logger
    }

    /// Headers for a chunk or bundle request: zstd is decoded here, and the link's rate.
    func wireHeaders() -> [String] {
        var headers = ["\(SoftcopyHeaders.acceptEncoding): zstd"]
        if let rate = linkMeter.withLock({ $0.rate(now: Clock.now()) }) {
            headers.append("\(SoftcopyHeaders.linkRate): \(Int(rate))")
        }
        return headers
    }

    /// The bytes a lease may ask for: fewer over a slow link (`LinkMeter.batchBytes`).
    func batchBytes(_ limit: UInt64) -> UInt64 {
        LinkMeter.batchBytes(rate: linkMeter.withLock { $0.rate(now: Clock.now()) }, limit: limit)
    }

    /// A chunk's or bundle's body came in: it measures the link.
    func bodyArrived(_ response: HTTPClientResponse) {
        guard response.status == 200, response.bodySeconds > 0 else { return }
        let end = Clock.now()
        linkMeter.withLock { $0.record(bytes: response.bodyBytes, start: end + .secondsValue(-response.bodySeconds), end: end) }
    }

    func connect() -> any WorkConnection {
        HTTPWorkConnection(channel: self, client: HTTPClient(token: token, caFile: caFile))
    }

    /// The job's pulls get no answer, or the coordinator at its address runs another job
    /// now (it restarted).
    func coordinatorIsGone() -> Bool {
        if unansweredSince.withLock({ $0 }) != nil { return true }
        let client = HTTPClient(token: token, caFile: caFile)
        guard let health = try? client.request(.health, at: attachment.coordinator, timeout: .seconds(3)) else { return true }
        guard health.status == 200, let doc = try? JSONParser.parse(bytes: health.body) else { return true }
        // A coordinator of several jobs lists them all; an older one names its one job.
        if let jobs = doc["jobs"]?.arrayValue { return !jobs.contains { $0.stringValue == attachment.job } }
        return doc["job"]?.stringValue != attachment.job
    }

}

/// One transfer thread's keep-alive connection to the coordinator.
final class HTTPWorkConnection: WorkConnection {
    let channel: HTTPWorkChannel
    let client: HTTPClient
    private var backoff = Backoff()
    /// Undoes the coordinator's wire compression; this connection's thread's own.
    lazy var decompressor = WireDecompressor()
    private var coordinator: String { channel.attachment.coordinator }
    private var job: String { channel.attachment.job }

    init(channel: HTTPWorkChannel, client: HTTPClient) {
        self.channel = channel
        self.client = client
    }

    func lease(maxItems: Int, maxBytes: UInt64, isStopping: @escaping @Sendable () -> Bool) -> LeaseAnswer {
        let request = LeaseRequest(agent: channel.attachment.agent, maxItems: maxItems, maxBytes: channel.batchBytes(maxBytes),
                                   waitMilliseconds: Int(HTTPWorkChannel.longPoll.secondsValue * 1000))
        let response: HTTPClientResponse
        do {
            // A long poll holds nothing: `stop` need not wait up to 20 s for its answer.
            client.isCancelled = isStopping
            defer { client.isCancelled = nil }
            response = try client.request(.lease(job: job), at: coordinator, json: request.json, timeout: HTTPWorkChannel.longPoll + .seconds(15))
            channel.unansweredSince.withLock { $0 = nil }
        } catch {
            if isStopping() { return .retry }
            channel.unansweredSince.withLock { $0 = $0 ?? Clock.now() }
            if backoff.failingFor > HTTPWorkChannel.abandonAfter {
                channel.logger.error("coordinator \(coordinator) unreachable for \(Int(HTTPWorkChannel.abandonAfter.secondsValue)) s; dropping job \(job)")
                return .end("abandoned")
            }
            if backoff.attempts == 0 { channel.logger.warning("cannot reach coordinator \(coordinator): \(error.message); retrying") }
            backoff.wait(unless: isStopping)
            return .retry
        }
        switch response.status {
        case 200: break
        case 410: return .end("gone")
        default:
            channel.logger.error("coordinator \(coordinator) refused a lease (\(response.status)): \(response.bodyText)")
            if response.status == 401 || response.status == 403 { return .end("refused") }
            backoff.wait(unless: isStopping)
            return .retry
        }
        backoff.reset()
        let grant: LeaseGrant
        do {
            grant = try LeaseGrant(body: response.body)
        } catch {
            channel.logger.error("coordinator \(coordinator) sent a lease grant that does not parse: \(error)")
            backoff.wait(unless: isStopping)
            return .retry
        }
        return grant.finished ? .end("finished") : .items(grant.items)
    }

    func open(_ item: LeaseGrant.Item) -> Opening {
        .ready(ChunkDownload(connection: self, item: item))
    }

    /// One chunk by GET under its lease.
    struct ChunkDownload: ItemReader {
        let connection: HTTPWorkConnection
        let item: LeaseGrant.Item

        func read(into writer: ChunkWriter, hasher: XXH3Hasher) -> Fetched {
            let url = Route.chunk(job: connection.job, lane: String(item.lane.rawValue), path: item.path.string)
                .url(connection.coordinator, query: [("lease", String(item.lease.rawValue))])
            var received: UInt64 = 0
            var writeError: SystemError?
            // The file's own bytes, after decompression: written, hashed, counted.
            func deliver(_ bytes: UnsafeRawBufferPointer) -> Bool {
                do throws(SystemError) {
                    try writer.append(bytes)
                } catch {
                    writeError = error
                    return false
                }
                hasher.update(bytes)
                received &+= UInt64(bytes.count)
                return true
            }
            var decoder: WireDecompressor?
            var decodeFailure: String?
            let connection = self.connection
            let response: HTTPClientResponse
            do {
                response = try connection.client.download(url, headers: connection.channel.wireHeaders(), stallTimeout: HTTPWorkChannel.stallTimeout,
                                                          onHead: { status, headers in
                    guard status == 200, let value = HTTPClientResponse.header(SoftcopyHeaders.encoding, in: headers) else { return true }
                    guard let encoding = WireEncoding(header: value),
                          let version = HTTPClientResponse.header(SoftcopyHeaders.version, in: headers).flatMap(FileVersion.init(token:)) else {
                        decodeFailure = "the coordinator sent \(item.path) as \(value.debugDescription), which this agent does not decode"
                        return false
                    }
                    connection.decompressor.begin(encoding, size: version.size)
                    decoder = connection.decompressor
                    return true
                }) { bytes in
                    guard let decoder else { return deliver(bytes) }
                    guard decoder.update(bytes, yield: deliver) else {
                        if writeError == nil { decodeFailure = decoder.failure }
                        return false
                    }
                    return true
                }
                if let decoder, response.status == 200, !decoder.finish(yield: deliver) {
                    if let writeError { return .writeFailed(writeError) }
                    decodeFailure = decoder.failure
                }
            } catch {
                if let writeError { return .writeFailed(writeError) }
                if let decodeFailure { return .done(.failed(message: "\(item.path): \(decodeFailure)", transient: true)) }
                return .done(.failed(message: "transfer of \(item.path) failed: \(error.message)", transient: true))
            }
            if let decodeFailure { return .done(.failed(message: "\(item.path): \(decodeFailure)", transient: true)) }
            connection.channel.bodyArrived(response)
            if let refused = HTTPWorkConnection.refusal(status: response.status, reason: response.header(SoftcopyHeaders.reason), detail: response.bodyText, path: item.path) {
                return refused.fetched
            }
            guard let version = response.header(SoftcopyHeaders.version).flatMap({ FileVersion(token: $0) }),
                  let expected = response.header(SoftcopyHeaders.checksum).flatMap({ Checksum(hex: $0) }) else {
                return .done(.failed(message: "the coordinator sent \(item.path) without a valid \(SoftcopyHeaders.version) and \(SoftcopyHeaders.checksum)", transient: true))
            }
            let mode = response.header(SoftcopyHeaders.mode).flatMap { UInt32($0, radix: 8) } ?? 0o644
            return .bytes(version: version, checksum: expected, mode: mode, received: received)
        }
    }

    enum Refusal {
        case outcome(WorkOutcome), stale, jobGone

        var fetched: Fetched {
            switch self {
            case .outcome(let o): .done(o)
            case .stale: .stale
            case .jobGone: .jobGone
            }
        }

        var bundled: BundledFile {
            switch self {
            case .outcome(let o): .done(o)
            case .stale: .stale
            case .jobGone: .jobGone
            }
        }
    }

    /// What the coordinator's answer for one file means when it is not 200, the same for a
    /// single GET and a bundle frame; nil for 200.
    static func refusal(status: Int, reason: String?, detail: String, path: RelativePath) -> Refusal? {
        switch (status, reason) {
        case (200, _): return nil
        case (404, "vanished"): return .outcome(.sourceVanished)
        case (409, "changed"): return .outcome(.changedWhileReading)
        case (409, _): return .stale
        case (410, _): return .jobGone
        default:
            let transient = status >= 500 || status == 429 || status == 408
            return .outcome(.failed(message: "the coordinator answered \(status) for \(path): \(detail)", transient: transient))
        }
    }

    func fetchBundle(_ items: [LeaseGrant.Item]) -> [BundledFile]? {
        func all(_ file: BundledFile) -> [BundledFile] { Array(repeating: file, count: items.count) }
        let request = BundleRequest(items: items.map { BundleRequest.Item(lane: $0.lane, path: $0.path, lease: $0.lease) })
        let response: HTTPClientResponse
        do {
            response = try client.request(.bundle(job: job), at: coordinator, json: request.json, headers: channel.wireHeaders(),
                                          timeout: HTTPWorkChannel.bundleTimeout)
        } catch {
            return all(.done(.failed(message: "transfer of a bundle of \(items.count) files failed: \(error.message)", transient: true)))
        }
        channel.bodyArrived(response)
        switch response.status {
        case 200: break
        case 404: return nil  // a coordinator from before bundles
        case 410: return all(.jobGone)
        default:
            let transient = response.status >= 500 || response.status == 429 || response.status == 408
            return all(.done(.failed(message: "the coordinator answered \(response.status) for a bundle: \(response.bodyText)", transient: transient)))
        }
        let frames: [(frame: BundleFrame, data: Range<Int>)]
        do {
            frames = try BundleFrame.split(response.body)
            guard frames.count == items.count, zip(frames, items).allSatisfy({ $0.frame.path == $1.path }) else {
                throw ProtocolError("bundle response: \(frames.count) frames for \(items.count) files, or not in the order asked")
            }
        } catch {
            channel.logger.warning("the coordinator sent a bundle that does not parse: \(error)")
            return all(.done(.failed(message: "\(error)", transient: true)))
        }
        return zip(frames, items).map { entry, item -> BundledFile in
            let frame = entry.frame
            if frame.status == 413 { return .alone }
            if let refused = Self.refusal(status: frame.status, reason: frame.reason, detail: frame.message ?? "", path: item.path) {
                return refused.bundled
            }
            // BundleFrame(json:) requires both for 200.
            guard let version = frame.version, let expected = frame.checksum else { return .alone }
            guard let encoding = frame.encoding else {
                return .bytes(version: version, checksum: expected, mode: frame.mode ?? 0o644, data: response.body[entry.data])
            }
            // Bundled files are small: a frame that says otherwise is not believed (nor
            // is memory reserved for it).
            guard version.size <= BundleRequest.fileLimit else {
                return .done(.failed(message: "\(item.path) in a bundle: \(version.size) bytes announced, more than a bundled file may hold", transient: true))
            }
            var data: [UInt8] = []
            data.reserveCapacity(Int(version.size))
            let d = decompressor
            d.begin(encoding, size: version.size)
            let decoded = response.body[entry.data].withUnsafeBytes { wire in
                d.update(wire) { data.append(contentsOf: $0); return true } && d.finish { data.append(contentsOf: $0); return true }
            }
            guard decoded else {
                return .done(.failed(message: "\(item.path) in a bundle: \(d.failure ?? "not decoded")", transient: true))
            }
            return .bytes(version: version, checksum: expected, mode: frame.mode ?? 0o644, data: data[...])
        }
    }

    func report(_ entries: [AckReport.Entry], freeBytes: UInt64?, isStopping: @escaping @Sendable () -> Bool) -> Bool {
        let report = AckReport(agent: channel.attachment.agent, entries: entries, freeBytes: freeBytes)
        var backoff = Backoff()
        for _ in 0..<8 {
            do {
                let response = try client.request(.ack(job: job), at: coordinator, json: report.json, timeout: .seconds(30))
                if response.status == 200 { return true }
                if response.status == 410 { return false }
                channel.logger.warning("coordinator refused an ack (\(response.status)): \(response.bodyText)")
                if response.status < 500 { return true }
            } catch {
                channel.logger.warning("cannot ack to \(coordinator): \(error.message)")
            }
            backoff.wait(unless: isStopping)
            if isStopping() { break }
        }
        // The files are durable and carry their record; a later listing tells the coordinator.
        return true
    }

    /// An agent's full disk is reported as insufficient storage (507): the coordinator
    /// places the work on another node.
    func noSpace(_ error: SystemError) {}
}
