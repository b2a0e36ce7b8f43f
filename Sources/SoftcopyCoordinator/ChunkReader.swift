import Glibc
import NIOCore
import NIOHTTP1
import Synchronization
import SoftcopyCore
import SoftcopyHTTP
import SoftcopyIO

/// Serves one leased chunk's bytes. On a blocking thread: open the file once, take its
/// version from that descriptor, hash it (XXH3-128) through a reused buffer, check it is
/// still that version for in-place writers, then hand the very same descriptor to NIO
/// to send with sendfile. The bytes sent are the bytes hashed: atomic writers never
/// change an inode once it has its real name, and an in-place change shows up as a
/// checksum mismatch at the agent, which never lets it land.
///
/// A chunk the wire policy picks (`WireCompressionPolicy`) is compressed in the same pass
/// as it is hashed and sent from memory; one that did not shrink still goes by sendfile.
final class ChunkReader: Sendable {
    private let buffers = Mutex<[UnsafeMutableRawBufferPointerBox]>([])
    private let compressors = Mutex<[WireCompressor]>([])
    private let ioPriority: IOPriority
    private let rateLimiter: RateLimiter?
    /// SHA-256 and MD5 computed in the same pass as XXH3-128, where `checksums:` asks.
    private let digests: ContentDigests?
    private let wireCompression: WireCompression
    /// How each array's chunks compressed of late, by lane and array.
    private let gains = Mutex<[String: CompressionGain]>([:])
    /// What went compressed, by lane.
    private let wireTotals = Mutex<[LaneID: WireTotals]>([:])
    static let bufferSize = 1 << 20
    /// Larger files go as they are: a compressed chunk is held in memory until sent.
    static let compressionLimit: UInt64 = 64 << 20

    init(ioPriority: IOPriority, rateLimiter: RateLimiter?, digests: ContentDigests?, wireCompression: WireCompression = .auto) {
        self.ioPriority = ioPriority
        self.rateLimiter = rateLimiter
        self.digests = digests
        self.wireCompression = wireCompression
    }

    /// What the coordinator knows of one chunk for the wire, and what its agent asked.
    struct WireContext {
        let request: WireCompressionPolicy.Request
        let lane: LaneID
        /// The owning array and its element size when raw (`ZarrHierarchy.chunkEncoding`).
        let chunk: (array: RelativePath, rawItemSize: Int?)?
    }

    /// The encoding for one chunk of `size` bytes, or nil to send it as it is.
    private func encoding(_ wire: WireContext?, size: UInt64) -> (WireEncoding, gainKey: String)? {
        guard let wire, size > 0, size <= Self.compressionLimit else { return nil }
        let key = "\(wire.lane.rawValue)/\(wire.chunk?.array.string ?? "")"
        return gains.withLock { gains -> (WireEncoding, gainKey: String)? in
            guard let encoding = WireCompressionPolicy.encoding(mode: wireCompression, request: wire.request,
                                                                rawItemSize: wire.chunk?.rawItemSize, gain: &gains[key, default: CompressionGain()]) else { return nil }
            return (encoding, key)
        }
    }

    /// What went compressed for these lanes together.
    func wireTotals(_ lanes: [LaneID]) -> WireTotals {
        wireTotals.withLock { totals in
            lanes.reduce(into: WireTotals()) { sum, lane in
                if let t = totals[lane] { sum.add(t) }
            }
        }
    }

    /// Ends `compressor`'s chunk of `raw` bytes and tells the array's gain how it went;
    /// true if it shrank, so it goes compressed (and is counted for `lane`). A chunk zstd
    /// failed on counts as one that did not shrink, and goes as it is.
    private func finishCompression(_ compressor: WireCompressor, raw: UInt64, gainKey: String, lane: LaneID?) -> Bool {
        compressor.finish()
        let wire = compressor.failure == nil ? UInt64(compressor.count) : raw
        gains.withLock { $0[gainKey, default: CompressionGain()].record(raw: raw, wire: wire) }
        guard wire < raw else { return false }
        if let lane { wireTotals.withLock { $0[lane, default: WireTotals()].add(raw: raw, wire: wire) } }
        return true
    }

    func serve(sourceRoot: String, links: SourceLinks, path: RelativePath, requireStableRead: Bool, wire: WireContext? = nil) -> HTTPResponse {
        _ = ioPriority.applyToCurrentThread()
        let display = sourceRoot + "/" + path.string
        let box = buffers.withLock { $0.popLast() } ?? UnsafeMutableRawBufferPointerBox(size: Self.bufferSize)
        defer { buffers.withLock { $0.append(box) } }
        do throws(SystemError) {
            guard let file = try SourceFile.open(display, links: links) else {
                return Refusal.vanished.response(path: path, display: display)
            }
            let version = file.status.version
            let compression = encoding(wire, size: version.size)
            let compressor = compression.map { chosen in
                let c = compressors.withLock { $0.popLast() } ?? WireCompressor()
                c.begin(chosen.0)
                return c
            }
            defer { if let compressor { compressors.withLock { $0.append(compressor) } } }
            // Up to one byte more than the size, as a bundle reads: a file that grew shows as a
            // longer read, without reading on for as long as a writer keeps appending.
            let extra = digests?.hashers() ?? []
            let (checksum, length) = try file.descriptor.checksum(buffer: box.buffer, path: display, upTo: version.size + 1, also: extra,
                                                                  feed: compressor.map { c in { c.update($0) } })
            rateLimiter?.consume(length)
            let changed = requireStableRead ? try file.changedSinceOpen(checkPath: true) : false
            if length != version.size || changed {
                return Refusal.changed.response(path: path, display: display)
            }
            if !extra.isEmpty { digests?.record(root: sourceRoot, path: path, checksum: checksum, extra) }
            var headers = HTTPHeaders()
            headers.add(name: SoftcopyHeaders.version, value: version.token)
            headers.add(name: SoftcopyHeaders.checksum, value: checksum.hex)
            headers.add(name: SoftcopyHeaders.mode, value: String(file.status.mode & 0o777, radix: 8))
            headers.add(name: "content-type", value: "application/octet-stream")
            // Only what shrank goes compressed; the rest by sendfile below.
            if let compressor, let (chosen, key) = compression, finishCompression(compressor, raw: length, gainKey: key, lane: wire?.lane) {
                headers.add(name: SoftcopyHeaders.encoding, value: chosen.description)
                let body = compressor.withOutput { ByteBuffer(bytes: $0) }
                return HTTPResponse(status: .ok, headers: headers, body: .bytes(body))
            }
            let fd = file.releaseDescriptor()
            return HTTPResponse(status: .ok, headers: headers,
                                body: .file(NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: fd), offset: 0, length: Int(length)))
        } catch {
            return Refusal.unreadable(error).response(path: path, display: display)
        }
    }

    /// Why a leased file is not served: the same status, reason and message for a single
    /// GET and for a bundle frame.
    enum Refusal {
        case vanished, changed, unreadable(SystemError)

        var status: HTTPResponseStatus {
            switch self {
            case .vanished: .notFound
            case .changed: .conflict
            case .unreadable(let error): error.isTransient ? .serviceUnavailable : .forbidden
            }
        }

        var reason: String {
            switch self {
            case .vanished: "vanished"
            case .changed: "changed"
            case .unreadable(let error): error.isTransient ? "transient" : "unreadable"
            }
        }

        func message(path: RelativePath, display: String) -> String {
            switch self {
            case .vanished: "\(path) is no longer at the source"
            case .changed: "\(path) changed while it was read"
            case .unreadable(let error): "cannot read \(display): \(error)"
            }
        }

        func response(path: RelativePath, display: String) -> HTTPResponse {
            .error(status, message(path: path, display: display), headers: HTTPHeaders([(SoftcopyHeaders.reason, reason)]))
        }

        func frame(path: RelativePath, display: String) -> BundleFrame {
            BundleFrame(path: path, status: Int(status.code), reason: reason, message: message(path: path, display: display))
        }
    }

    /// One item of a bundle, checked against its lease by the caller.
    struct BundleEntry {
        let sourceRoot: String
        let links: SourceLinks
        let path: RelativePath
        let leaseCurrent: Bool
        let requireStableRead: Bool
        var wire: WireContext? = nil
    }

    /// Serves several small leased files in one body: for each, a `BundleFrame` header
    /// line and its bytes, read and hashed as `serve` does. A file over the bundle
    /// limits gets a 413 frame, and the agent fetches it alone.
    func bundle(_ entries: [BundleEntry]) -> HTTPResponse {
        _ = ioPriority.applyToCurrentThread()
        let box = buffers.withLock { $0.popLast() } ?? UnsafeMutableRawBufferPointerBox(size: Self.bufferSize)
        defer { buffers.withLock { $0.append(box) } }
        var body = ByteBuffer()
        var total: UInt64 = 0
        var compressor: WireCompressor?
        defer { if let compressor { compressors.withLock { $0.append(compressor) } } }
        for entry in entries {
            var frame = bundleFrame(entry, buffer: box.buffer, total: &total)
            let data = UnsafeRawBufferPointer(rebasing: box.buffer[..<Int(frame.length)])
            if frame.status == 200, let (chosen, key) = encoding(entry.wire, size: frame.length) {
                let c = compressor ?? compressors.withLock { $0.popLast() } ?? WireCompressor()
                compressor = c
                c.begin(chosen)
                c.update(data)
                if finishCompression(c, raw: frame.length, gainKey: key, lane: entry.wire?.lane) {
                    frame.length = UInt64(c.count)
                    frame.encoding = chosen
                    body.writeBytes(frame.headerLine)
                    c.withOutput { _ = body.writeBytes($0) }
                    continue
                }
            }
            body.writeBytes(frame.headerLine)
            if frame.status == 200 { body.writeBytes(data) }
        }
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/x-softcopy-bundle")
        return HTTPResponse(status: .ok, headers: headers, body: .bytes(body))
    }

    /// One file's frame; its bytes are left at the start of `buffer`.
    private func bundleFrame(_ entry: BundleEntry, buffer: UnsafeMutableRawBufferPointer, total: inout UInt64) -> BundleFrame {
        let path = entry.path
        guard entry.leaseCurrent else {
            return BundleFrame(path: path, status: 409, reason: "stale-lease", message: "the lease of \(path) is not current (it expired or was completed)")
        }
        let display = entry.sourceRoot + "/" + path.string
        do throws(SystemError) {
            guard let file = try SourceFile.open(display, links: entry.links) else {
                return Refusal.vanished.frame(path: path, display: display)
            }
            let version = file.status.version
            guard version.size <= BundleRequest.fileLimit, version.size < UInt64(buffer.count),
                  total + version.size <= BundleRequest.bundleLimit else {
                return BundleFrame(path: path, status: 413, reason: "too-large", message: "\(path) does not fit in this bundle; fetch it alone")
            }
            // Up to one byte more than the size, so a file that grew shows as a longer read.
            var length = 0
            let want = Int(version.size) + 1
            while length < want {
                let n = try file.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[length..<want]), at: Int64(length))
                if n == 0 { break }
                length += n
            }
            rateLimiter?.consume(UInt64(length))
            let hasher = XXH3Hasher()
            hasher.update(UnsafeRawBufferPointer(rebasing: buffer[..<length]))
            let checksum = hasher.digest()
            let changed = entry.requireStableRead ? try file.changedSinceOpen(checkPath: true) : false
            if UInt64(length) != version.size || changed {
                return Refusal.changed.frame(path: path, display: display)
            }
            if let digests {
                let extra = digests.hashers()
                for h in extra { h.update(UnsafeRawBufferPointer(rebasing: buffer[..<length])) }
                digests.record(root: entry.sourceRoot, path: path, checksum: checksum, extra)
            }
            total += UInt64(length)
            return BundleFrame(path: path, version: version, checksum: checksum, mode: file.status.mode & 0o777, length: UInt64(length))
        } catch {
            return Refusal.unreadable(error).frame(path: path, display: display)
        }
    }
}

/// A reusable read buffer. `@unchecked Sendable`: it wraps allocated memory (a pointer
/// is not Sendable), and the pool hands each buffer to one thread at a time.
final class UnsafeMutableRawBufferPointerBox: @unchecked Sendable {
    let buffer: UnsafeMutableRawBufferPointer

    init(size: Int) {
        buffer = .allocate(byteCount: size, alignment: 4096)
    }

    deinit {
        buffer.deallocate()
    }
}
