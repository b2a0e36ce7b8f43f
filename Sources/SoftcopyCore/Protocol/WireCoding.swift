// How the values that messages carry are written on the wire: paths as strings (checked
// to lie inside the archive), versions as their token, checksums as 32 hex digits,
// leases as numbers.

/// A value written on the wire as one string, parsed back with a check of its own.
protocol WireText: Codable {
    var wireText: String { get }
    /// The value `text` spells, or why it spells none ("must be 32 hex digits ...").
    static func parse(wireText text: String) -> Result<Self, WireTextError>
}

struct WireTextError: Error {
    var reason: String
}

extension WireText {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        switch Self.parse(wireText: try c.decode(String.self)) {
        case .success(let value): self = value
        case .failure(let error): throw DecodingError.dataCorruptedError(in: c, debugDescription: error.reason)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(wireText)
    }
}

extension RelativePath: WireText {
    var wireText: String { string }

    static func parse(wireText text: String) -> Result<RelativePath, WireTextError> {
        do {
            return .success(try RelativePath(validating: text))
        } catch {
            return .failure(WireTextError(reason: "\(text.debugDescription) is not a relative path inside the archive: \(error)"))
        }
    }
}

extension FileVersion: WireText {
    var wireText: String { token }

    static func parse(wireText text: String) -> Result<FileVersion, WireTextError> {
        FileVersion(token: text).map { .success($0) }
            ?? .failure(WireTextError(reason: "must be a version 'inode:size:mtime_ns:ctime_ns', found \(text.debugDescription)"))
    }
}

extension Checksum: WireText {
    var wireText: String { hex }

    static func parse(wireText text: String) -> Result<Checksum, WireTextError> {
        Checksum(hex: text).map { .success($0) }
            ?? .failure(WireTextError(reason: "must be 32 hex digits (XXH3-128), found \(text.debugDescription)"))
    }
}

extension LeaseID: Codable {
    public init(from decoder: any Decoder) throws {
        self.init(try decoder.singleValueContainer().decode(UInt64.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}

extension WorkItem.Operation: WireText {
    var wireText: String { self == .copy ? "copy" : "delete" }

    static func parse(wireText text: String) -> Result<WorkItem.Operation, WireTextError> {
        switch text {
        case "copy": .success(.copy)
        case "delete": .success(.delete)
        default: .failure(WireTextError(reason: "must be copy or delete, found \(text.debugDescription)"))
        }
    }
}
