/// One file in a bundle response: a JSON header line, then `length` bytes of the file.
/// The header carries what a single file's response says in its status and headers:
/// 200 with the version, checksum and mode, or the status and reason of a refusal
/// (404 vanished, 409 changed or stale-lease, 413 too large for a bundle, 503 transient).
public struct BundleFrame: ControlMessage, Hashable {
    public static let messageName = "bundle frame"

    public var path: RelativePath
    public var status: Int
    public var reason: String?
    public var message: String?
    public var version: FileVersion?
    public var checksum: Checksum?
    public var mode: UInt32?
    /// Bytes of file data after the header line (0 unless status is 200): the file's own,
    /// or, with `encoding`, its compressed form (the file is `version.size` bytes).
    public var length: UInt64
    /// How the data is compressed (`WireEncoding`); nil: the file's bytes as they are.
    public var encoding: WireEncoding?

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

    /// The header line, newline included (written by hand: see `ControlMessage`).
    public var headerLine: [UInt8] {
        Array(json.serialized().utf8) + [0x0A]
    }

    enum CodingKeys: String, CodingKey {
        case path, status, reason, message, version, checksum, mode, length, encoding
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        path = try c.decode(RelativePath.self, forKey: .path)
        status = try c.decode(Int.self, forKey: .status)
        guard (100...599).contains(status) else {
            throw DecodingError.dataCorruptedError(forKey: .status, in: c, debugDescription: "\(status) is not an HTTP status")
        }
        reason = try c.decodeIfPresent(String.self, forKey: .reason)
        message = try c.decodeIfPresent(String.self, forKey: .message)
        length = try c.decode(UInt64.self, forKey: .length)
        if status == 200 {
            version = try c.decode(FileVersion.self, forKey: .version)
            checksum = try c.decode(Checksum.self, forKey: .checksum)
            guard let text = try? c.decode(String.self, forKey: .mode), let mode = UInt32(text, radix: 8), mode <= 0o7777 else {
                throw DecodingError.dataCorruptedError(forKey: .mode, in: c, debugDescription: "must be octal permissions such as \"644\"")
            }
            self.mode = mode
            if let text = try c.decodeIfPresent(String.self, forKey: .encoding) {
                guard let encoding = WireEncoding(header: text) else {
                    throw DecodingError.dataCorruptedError(forKey: .encoding, in: c, debugDescription: "\(text.debugDescription) is not an encoding this version decodes")
                }
                self.encoding = encoding
            }
        } else if length != 0 {
            throw DecodingError.dataCorruptedError(forKey: .length, in: c, debugDescription: "is \(length), but a \(status) frame carries no data")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(path, forKey: .path)
        try c.encode(status, forKey: .status)
        try c.encodeIfPresent(reason, forKey: .reason)
        try c.encodeIfPresent(message, forKey: .message)
        try c.encodeIfPresent(version, forKey: .version)
        try c.encodeIfPresent(checksum, forKey: .checksum)
        try c.encodeIfPresent(mode.map { String($0, radix: 8) }, forKey: .mode)
        try c.encode(length, forKey: .length)
        try c.encodeIfPresent(encoding?.description, forKey: .encoding)
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

/// The hand-written path (see `ControlMessage`): a bundle carries one frame per file.
extension BundleFrame {
    public var handWritten: JSONValue? {
        var members: [(key: String, value: JSONValue)] = [("path", .string(path.string)), ("status", .integer(status))]
        if let reason { members.append(("reason", .string(reason))) }
        if let message { members.append(("message", .string(message))) }
        if let version { members.append(("version", .string(version.token))) }
        if let checksum { members.append(("checksum", .string(checksum.hex))) }
        if let mode { members.append(("mode", .string(String(mode, radix: 8)))) }
        members.append(("length", .integer(length)))
        if let encoding { members.append(("encoding", .string(encoding.description))) }
        return .object(members)
    }

    public static func handRead(_ json: JSONValue) -> BundleFrame? {
        guard case .object = json, let path = json["path"]?.wire(RelativePath.self), let status = json["status"]?.whole(Int.self),
              (100...599).contains(status), let reason = JSONValue.optional(json["reason"], \.stringValue),
              let message = JSONValue.optional(json["message"], \.stringValue), let length = json["length"]?.whole(UInt64.self) else { return nil }
        guard status == 200 else {
            guard length == 0 else { return nil }
            var frame = BundleFrame(path: path, status: status, reason: "", message: "")
            frame.reason = reason
            frame.message = message
            return frame
        }
        guard let version = json["version"]?.wire(FileVersion.self), let checksum = json["checksum"]?.wire(Checksum.self),
              let text = json["mode"]?.stringValue, let mode = UInt32(text, radix: 8), mode <= 0o7777 else { return nil }
        var frame = BundleFrame(path: path, version: version, checksum: checksum, mode: mode, length: length)
        if let value = json["encoding"], value != .null {
            guard let text = value.stringValue, let encoding = WireEncoding(header: text) else { return nil }
            frame.encoding = encoding
        }
        frame.reason = reason
        frame.message = message
        return frame
    }
}
