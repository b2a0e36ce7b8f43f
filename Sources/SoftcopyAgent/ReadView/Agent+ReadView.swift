import Glibc
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import SoftcopyCore
import SoftcopyHTTP
import SoftcopyIO
import Synchronization

/// The union read view (docs/read-view.md): `GET`/`HEAD /zarr/{destination}/{key}` serves
/// every key of an archive the cluster holds, wherever it is. The record of who holds
/// which version is the coordinator's while the run goes on, then the manifest; a key is
/// served from this node's disk only when its bytes here are that version (their
/// verified checksum is the record's), else passed through from a node that holds it,
/// checked the same way; 503 when none can be reached, never another version.
extension Agent {
    /// Where the record of a destination is.
    enum ViewRecord {
        case coordinator(ReadViewRun)
        case manifest(ManifestIndex)
    }

    /// How long a reader is asked to wait after a 503 (a node restarting, a failover).
    static let viewRetryAfter = "2"

    func viewResponse(_ request: HTTPRequest, on eventLoop: any EventLoop) -> EventLoopFuture<HTTPResponse> {
        switch request.method {
        case .OPTIONS: return eventLoop.makeSucceededFuture(ReadViewResponse.preflight())
        case .GET, .HEAD: break
        default: return eventLoop.makeSucceededFuture(Self.withCORS(.error(.methodNotAllowed, "the read view is read-only: GET, HEAD or OPTIONS")))
        }
        if let refusal = viewRefusal(request) { return eventLoop.makeSucceededFuture(Self.withCORS(refusal)) }
        let promise = eventLoop.makePromise(of: HTTPResponse.self)
        viewPool.submit { [self] (state: NIOThreadPool.WorkItemState) in
            guard case .active = state else {
                promise.succeed(Self.withCORS(.error(.serviceUnavailable, "the agent is stopping")))
                return
            }
            view(request) { promise.succeed(Self.withCORS($0)) }
        }
        return promise.futureResult
    }

    /// The 401 for a reader without the token or the read token, when either is set.
    private func viewRefusal(_ request: HTTPRequest) -> HTTPResponse? {
        TokenFile.refusal(of: request, accepting: [configuration.token, configuration.readToken].compactMap { $0 },
                          needs: "the read view of this agent needs a token", logger: logger)
    }

    static func withCORS(_ response: HTTPResponse) -> HTTPResponse {
        var r = response
        ReadViewResponse.addCORS(&r.headers)
        return r
    }

    /// Answers through `respond`, exactly once; a pass-through answers as soon as the
    /// holder's head arrived, and goes on streaming after.
    private func view(_ request: HTTPRequest, respond: @escaping (HTTPResponse) -> Void) {
        let parts = Array(request.components.dropFirst())
        let full: RelativePath
        do {
            full = try RelativePath(validating: parts.joined(separator: "/"))
        } catch {
            return respond(.error(.badRequest, "bad path \(parts.joined(separator: "/").debugDescription): \(error)"))
        }
        guard !full.isRoot else { return respond(.error(.notFound, "name an archive: /zarr/DESTINATION/ (the destination as its job named it)")) }
        checkRoot()
        guard case .success(let root) = dataRoot.current() else {
            return respond(.error(.serviceUnavailable, "the data root of \(configuration.name) is not available: \(dataRoot.report.problem ?? "?")"))
        }
        if let response = viewAnswer(request, full: full, root: root, respond: respond) { respond(response) }
    }

    /// The answer, or nil when `respond` was already called (a pass-through under way).
    private func viewAnswer(_ request: HTTPRequest, full: RelativePath, root: DestinationTree, respond: @escaping (HTTPResponse) -> Void) -> HTTPResponse? {
        guard let (destination, record) = viewDestination(full, root: root) else {
            return .error(.notFound, "no archive of the cluster at \(full) on \(configuration.name)")
        }
        let key = full.relative(to: destination) ?? .root
        // A node replaces a chunk a moment before the coordinator hears it is verified: in
        // that moment its bytes are newer than the record. Asked again, the record catches
        // up; a coordinator too busy to answer in time is asked again too. Both within
        // `viewPatience`, then 503.
        let deadline = Clock.now() + Self.viewPatience
        for attempt in 1... {
            let pause = Duration.milliseconds(min(250, 20 << min(attempt - 1, 4)))
            let answer: ReadViewAnswer
            switch record {
            case .failure(let unavailable):
                return unavailable.response
            case .success(.manifest(let index)):
                answer = index.lookup(key)
            case .success(.coordinator(let run)):
                switch askCoordinator(run, key: key, timeout: max(.milliseconds(500), min(Self.coordinatorTimeout, deadline - Clock.now()))) {
                case .success(let a): answer = a
                case .failure(let unavailable):
                    guard unavailable.timedOut, Clock.now() + pause < deadline else { return unavailable.response }
                    Clock.sleep(pause)
                    continue
                }
            }
            switch answer {
            case .absent:
                return .error(.notFound, "\(key) of \(destination) is not held by the cluster (not written, not yet verified, or deleted at the source)")
            case .pending:
                return ViewUnavailable.retry("\(key) of \(destination) is being copied again (its copy failed its check, or the node that held it is gone)").response
            case .folder(let entries):
                var headers = HTTPHeaders()
                headers.add(name: "content-type", value: "text/html; charset=utf-8")
                headers.add(name: "cache-control", value: "no-cache")
                headers.add(name: "content-security-policy", value: "default-src 'none'")
                var body = ByteBuffer()
                body.writeString(FolderIndexPage.html(title: "/zarr/" + full.string + "/", entries: entries))
                return HTTPResponse(status: .ok, headers: headers, body: .bytes(body))
            case .file(let file):
                let plan = ReadViewResponse.plan(for: request, size: file.size, checksum: file.checksum, cors: true)
                guard case .send(let status, let offset, let length, let headers) = plan else {
                    if case .answer(let r) = plan { return r }
                    return nil
                }
                if let local = localCopy(root: root, path: destination.appending(key), file: file) {
                    return HTTPResponse(status: status, headers: headers,
                                        body: .file(NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: local), offset: Int(offset), length: Int(length)))
                }
                if let name = objectName(destination.appending(key)) {
                    // This node's copy is in its bucket: sent from there when it is the version.
                    switch serveObject(name, request: request, expected: file.checksum, cors: true, respond: respond) {
                    case .answered: return nil
                    case .absent, .otherVersion, .failed: break
                    }
                }
                if request.method == .HEAD {
                    // The record describes the bytes; no need to fetch them.
                    return HTTPResponse(status: status, headers: headers, body: .stream(.empty(), length: Int(length)))
                }
                switch passThrough(destination.appending(key), file: file, status: status, offset: offset, length: length, headers: headers, respond: respond) {
                case .answered:
                    return nil
                case .otherVersion(let message):
                    guard case .success(.coordinator) = record, Clock.now() + pause < deadline else { return ViewUnavailable.retry(message).response }
                    Clock.sleep(pause)
                case .unreachable(let message):
                    return ViewUnavailable.retry(message).response
                }
            }
        }
        return nil
    }

    /// How long one read waits at most for the run's record to answer, or to catch up with
    /// a chunk just replaced, before it is answered 503.
    static let viewPatience: Duration = .seconds(5)
    /// One request to the coordinator.
    static let coordinatorTimeout: Duration = .seconds(3)

    /// What a pass-through came to.
    enum PassThrough {
        /// The answer is on its way.
        case answered
        /// Every holder answered with bytes of another version.
        case otherVersion(String)
        /// No holder could be reached (or named).
        case unreachable(String)
    }

    /// The destination `full` lies in (its shortest leading part that is one), and where
    /// its record is: a run under way (`run.json`, written when its job is attached and
    /// removed once its manifest is stored: the job may stay attached a moment longer,
    /// while its coordinator already answers 410), or a manifest. Every name is opened
    /// beneath the root without following links.
    private func viewDestination(_ full: RelativePath, root: DestinationTree) -> (RelativePath, Result<ViewRecord, ViewUnavailable>)? {
        var prefix = RelativePath.root
        for name in full.components {
            prefix = prefix.appending(component: String(name))
            if let (bytes, _) = try? root.readWhole(prefix.appending(ReadViewRun.relativePath), limit: 64 * 1024) {
                guard let run = ReadViewRun(bytes: bytes) else {
                    return (prefix, .failure(ViewUnavailable(.internalServerError, "\(prefix)/\(ReadViewRun.relativePath) is not a run record")))
                }
                return (prefix, .success(.coordinator(run)))
            }
            switch manifestIndex(root: root, destination: prefix) {
            case .success(let index?): return (prefix, .success(.manifest(index)))
            case .success(nil): continue
            case .failure(let problem): return (prefix, .failure(problem))
            }
        }
        return nil
    }

    /// The manifest of `destination`, indexed once and kept while its file stays the same.
    private func manifestIndex(root: DestinationTree, destination: RelativePath) -> Result<ManifestIndex?, ViewUnavailable> {
        let path = destination.appending(Manifest.relativePath)
        guard let fd = try? root.openForReading(path), let status = try? fd.status(), status.kind == .regular else { return .success(nil) }
        let identity = ManifestCache.Identity(inode: status.version.inode, size: status.version.size, mtime: status.version.mtimeNanoseconds)
        if let index = manifests.index(destination, identity: identity) { return .success(index) }
        do {
            guard let (bytes, read) = try root.readWhole(path, limit: AgentAPI.manifestBodyLimit) else { return .success(nil) }
            let index = try ManifestIndex(bytes: bytes)
            manifests.store(destination, identity: .init(inode: read.version.inode, size: read.version.size, mtime: read.version.mtimeNanoseconds), index)
            return .success(index)
        } catch {
            logger.warning("the read view cannot use \(root.displayPath(path)): \(error)")
            return .failure(ViewUnavailable(.internalServerError, "the manifest \(path) cannot be read: \(error)"))
        }
    }

    /// The coordinator's answer for `key` of the run, or the 503 that says why there is none.
    private func askCoordinator(_ run: ReadViewRun, key: RelativePath, timeout: Duration) -> Result<ReadViewAnswer, ViewUnavailable> {
        let response: HTTPClientResponse
        do throws(HTTPClientError) {
            response = try viewClients.with { client throws(HTTPClientError) in
                try client.request(.view(job: run.job, lane: String(run.lane.rawValue), path: key.string), at: run.coordinator, timeout: timeout)
            }
        } catch {
            var unavailable = ViewUnavailable.retry("the coordinator of job \(run.job) at \(run.coordinator) cannot be reached (\(error)); the copy's record is there until the run ends")
            unavailable.timedOut = error.isTimeout
            return .failure(unavailable)
        }
        guard response.status == 200 else {
            return .failure(.retry("the coordinator at \(run.coordinator) has no record of job \(run.job) (\(response.status): \(response.bodyText)); the run did not store its manifest here yet"))
        }
        do {
            return .success(try ReadViewAnswer(json: JSONParser.parse(bytes: response.body)))
        } catch {
            return .failure(ViewUnavailable(.badGateway, "the coordinator at \(run.coordinator) answered the read view with \(error)"))
        }
    }

    /// This node's copy of `path`, opened, when its bytes are the version the record names:
    /// the checksum this agent verified as it wrote them (their record, still describing the
    /// file) equals the record's.
    private func localCopy(root: DestinationTree, path: RelativePath, file: ReadViewAnswer.File) -> CInt? {
        guard let fd = try? root.openForReading(path), let status = try? fd.status(), status.kind == .regular,
              status.version.size == file.size else { return nil }
        let record = records.record(for: status) ?? WrittenRecord.current(on: fd, status: status)
        guard record?.checksum == file.checksum else { return nil }
        return fd.release()
    }

    /// Streams `length` bytes from `offset` of `path` from the first holder whose copy is
    /// the record's version (its answer carries the checksum it verified).
    private func passThrough(_ path: RelativePath, file: ReadViewAnswer.File, status: HTTPResponseStatus, offset: UInt64, length: UInt64,
                             headers: HTTPHeaders, respond: @escaping (HTTPResponse) -> Void) -> PassThrough {
        var problems: [String] = []
        var otherVersion = 0
        let range = status == .partialContent ? ["Range: bytes=\(offset)-\(offset + length - 1)"] : []
        for holder in file.holders {
            guard !holder.url.isEmpty else {
                problems.append("\(holder.name): no address known")
                continue
            }
            let relay = ResponseRelay(status: status, headers: headers, length: length, respond: respond)
            let result = viewClients.with { client in
                Result { () throws(HTTPClientError) in
                    try client.download(Route.file(path: path.string).url(holder.url), headers: range, stallTimeout: .seconds(30), onHead: { code, upstream in
                        let checksum = HTTPClientResponse.header(SoftcopyHeaders.checksum, in: upstream)
                        let announced = HTTPClientResponse.header("content-length", in: upstream).flatMap { UInt64($0) }
                        guard code == (status == .partialContent ? 206 : 200), checksum == file.checksum.hex, announced == length else {
                            if code == 200 || code == 206 {
                                otherVersion += 1
                                problems.append("\(holder.name): holds another version")
                            } else {
                                problems.append("\(holder.name): answered \(code)")
                            }
                            return false
                        }
                        relay.begin()
                        return true
                    }, sink: relay.write)
                }
            }
            if relay.began {
                // Answered: whatever happens now, the reader sees either every byte or a cut.
                if case .failure(let error) = result { logger.warning("the read view's pass-through of \(path) from \(holder.name) broke: \(error.message)") }
                relay.finish(succeeded: (try? result.get()) != nil)
                return .answered
            }
            if case .failure(let error) = result, !error.abortedByCaller { problems.append("\(holder.name): \(error.message)") }
        }
        let message = "no node that holds the verified version of \(path) can give it now (\(problems.joined(separator: "; ")))"
        return !problems.isEmpty && otherVersion == problems.count ? .otherVersion(message) : .unreachable(message)
    }
}
