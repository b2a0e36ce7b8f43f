/// One file in a bundle response: a JSON header line, then `length` bytes of the file.
/// The header carries what a single file's response says in its status and headers:
/// 200 with the version, checksum and mode, or the status and reason of a refusal
/// (404 vanished, 409 changed or stale-lease, 413 too large for a bundle, 503 transient).
public struct BundleFrame: Sendable, Hashable {
    public var path: RelativePath
    public var status: Int
    public var reason: String?
    public var message: String?
    public var version: FileVersion?
    public var checksum: Checksum?
    public var mode: UInt32?
    /// Bytes of file data after the header line (0 unless status is 200).
    public var length: UInt64

    public init(path: RelativePath, version: FileVersion, checksum: Checksum, mode: UInt32, length: UInt64) {
        self.path = path
        self.status = 200
        self.version = version
        self.checksum = checksum
        self.mode = mode
        self.length = length
    }

    public init(path: RelativePath, status: Int, reason: String, message: String) {
        self.path = path
        self.status = status
        self.reason = reason
        self.message = message
        self.length = 0
    }

    /// The header line, newline included.
    public var headerLine: [UInt8] {
        var members: [(String, JSONValue)] = [("path", .string(path.string)), ("status", .integer(status))]
        if let reason { members.append(("reason", .string(reason))) }
        if let message { members.append(("message", .string(message))) }
        if let version { members.append(("version", .string(version.token))) }
        if let checksum { members.append(("checksum", .string(checksum.hex))) }
        if let mode { members.append(("mode", .string(String(mode, radix: 8)))) }
        members.append(("length", .integer(length)))
        return Array(JSONValue.object(members).serialized().utf8) + [0x0A]
    }

    public init(json: JSONValue) throws(ProtocolError) {
        let r = try FieldReader(json, context: "bundle frame")
        path = try r.path("path")
        let status = try r.unsigned("status")
        guard (100...599).contains(status) else { throw ProtocolError("bundle frame: 'status' \(status) is not an HTTP status") }
        self.status = Int(status)
        reason = try r.optionalString("reason")
        message = try r.optionalString("message")
        length = try r.unsigned("length")
        if status == 200 {
            version = try r.version("version")
            checksum = try r.checksum("checksum")
            guard let text = try r.optionalString("mode"), let mode = UInt32(text, radix: 8), mode <= 0o7777 else {
                throw ProtocolError("bundle frame: 'mode' must be octal permissions such as \"644\"")
            }
            self.mode = mode
        } else if length != 0 {
            throw ProtocolError("bundle frame: a \(status) frame carries no data, but 'length' is \(length)")
        }
    }

    /// Splits a bundle response body into its frames and the range of each one's data.
    /// Every byte must belong to a frame: a truncated or padded body is an error.
    public static func split(_ body: [UInt8]) throws(ProtocolError) -> [(frame: BundleFrame, data: Range<Int>)] {
        var frames: [(BundleFrame, Range<Int>)] = []
        var at = 0
        while at < body.count {
            guard let newline = body[at...].firstIndex(of: 0x0A) else {
                throw ProtocolError("bundle response: frame \(frames.count + 1) has no complete header line")
            }
            let header: JSONValue
            do {
                header = try JSONParser.parse(bytes: Array(body[at..<newline]))
            } catch {
                throw ProtocolError("bundle response: frame \(frames.count + 1)'s header is not valid JSON: \(error)")
            }
            let frame = try BundleFrame(json: header)
            let start = newline + 1
            guard frame.length <= UInt64(body.count - start) else {
                throw ProtocolError("bundle response: frame \(frames.count + 1) (\(frame.path)) promises \(frame.length) bytes, \(body.count - start) remain")
            }
            let end = start + Int(frame.length)
            frames.append((frame, start..<end))
            at = end
        }
        return frames
    }
}
