import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import SoftcopyCore
import SoftcopyHTTP
import SoftcopyIO

extension Agent {
    /// What serving an object came to.
    enum ObjectServe {
        /// The answer is on its way.
        case answered
        /// No such object.
        case absent
        /// The object holds another version than the one asked for.
        case otherVersion
        case failed(S3Error)
    }

    /// The object of `path` (under the root's namespace: `DEST/KEY`) in this agent's bucket.
    func objectName(_ path: RelativePath) -> String? {
        configuration.objectStore.map { $0.location.objectName(destination: "", key: path.string) }
    }

    /// Answers `request` with the bytes of object `name` (one range of them, as `plan`
    /// decides from the object's size and recorded checksum), streamed from the bucket,
    /// when its recorded checksum is `expected` (nil: whatever it is). `cors` for the read
    /// view's answers. The object's ETag is checked between the `HEAD` and the `GET`, so a
    /// replaced object is never sent as the one described.
    func serveObject(_ name: String, request: HTTPRequest, expected: Checksum?, cors: Bool, respond: @escaping (HTTPResponse) -> Void) -> ObjectServe {
        guard let clients = objectClients else { return .absent }
        return clients.with { s3 -> ObjectServe in
            let described: (size: UInt64, etag: String, metadata: [String: String])
            do throws(S3Error) {
                guard let head = try s3.head(name) else { return .absent }
                described = head
            } catch {
                return .failed(error)
            }
            let record = ObjectRecords.record(metadata: described.metadata)
            if let expected, record?.checksum != expected { return .otherVersion }
            let plan = ReadViewResponse.plan(for: request, size: described.size, checksum: record?.checksum, cors: cors)
            guard case .send(let status, let offset, let length, var headers) = plan else {
                if case .answer(let r) = plan { respond(r) }
                return .answered
            }
            if let record {
                headers.add(name: SoftcopyHeaders.checksum, value: record.checksum.hex)
                headers.add(name: SoftcopyHeaders.version, value: record.version.token)
            }
            if request.method == .HEAD || length == 0 {
                respond(HTTPResponse(status: status, headers: headers, body: .stream(.empty(), length: Int(length))))
                return .answered
            }
            var replaced = false
            let range = status == .partialContent ? offset...(offset + length - 1) : nil
            let relay = ResponseRelay(status: status, headers: headers, length: length, respond: respond)
            let result = Result { () throws(S3Error) in
                try s3.download(name, range: range, onHead: { code, upstream in
                    let etag = HTTPClientResponse.header("etag", in: upstream).map(S3Client.unquoted)
                    guard code == (range == nil ? 200 : 206), etag == described.etag else {
                        replaced = code == 200 || code == 206
                        return false
                    }
                    relay.begin()
                    return true
                }, sink: relay.write)
            }
            if relay.began {
                if case .failure(let error) = result { logger.warning("sending \(name) from the bucket broke: \(error)") }
                relay.finish(succeeded: (try? result.get()) != nil)
                return .answered
            }
            if replaced { return .otherVersion }
            if case .failure(let error) = result { return .failed(error) }
            return .absent
        }
    }

    /// `GET`/`HEAD /v1/files/{path}` of an agent whose store is a bucket: the object,
    /// streamed, with its record's checksum and version (the read view's pass-through
    /// from other nodes checks them).
    func objectFileResponse(_ request: HTTPRequest, path text: String, on eventLoop: any EventLoop) -> EventLoopFuture<HTTPResponse> {
        let path: RelativePath
        do {
            path = try Self.path(text)
        } catch {
            return eventLoop.makeSucceededFuture(.error(.badRequest, error.message))
        }
        let promise = eventLoop.makePromise(of: HTTPResponse.self)
        viewPool.submit { [self] (state: NIOThreadPool.WorkItemState) in
            guard case .active = state, let name = objectName(path) else {
                promise.succeed(.error(.serviceUnavailable, "the agent is stopping"))
                return
            }
            switch serveObject(name, request: request, expected: nil, cors: false, respond: { promise.succeed($0) }) {
            case .answered: break
            case .absent, .otherVersion: promise.succeed(.error(.notFound, "no object \(name) in \(configuration.objectStore!.location.bucket)"))
            case .failed(let error): promise.succeed(ViewUnavailable.retry("\(error)").response)
            }
        }
        return promise.futureResult
    }
}
