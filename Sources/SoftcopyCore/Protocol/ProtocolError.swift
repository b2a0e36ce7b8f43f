/// A request or response body that does not say what the HTTP API expects. The message
/// names the field, so a 400 tells the sender exactly what was wrong.
public struct ProtocolError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }

    /// Parses a JSON body, naming the line and column of a syntax error.
    public static func parseBody(_ bytes: [UInt8], what: String) throws(ProtocolError) -> JSONValue {
        do {
            return try JSONParser.parse(bytes: bytes)
        } catch {
            throw ProtocolError("\(what) is not valid JSON: \(error)")
        }
    }
}

/// Typed reads of JSON fields, each failure a ProtocolError naming the field.
struct FieldReader {
    let value: JSONValue
    let context: String

    init(_ value: JSONValue, context: String) throws(ProtocolError) {
        guard case .object = value else { throw ProtocolError("\(context) must be a JSON object") }
        self.value = value
        self.context = context
    }

    func string(_ key: String) throws(ProtocolError) -> String {
        guard let s = value[key]?.stringValue else { throw ProtocolError("\(context): '\(key)' must be a string") }
        return s
    }

    func optionalString(_ key: String) throws(ProtocolError) -> String? {
        guard let v = value[key], v != .null else { return nil }
        guard let s = v.stringValue else { throw ProtocolError("\(context): '\(key)' must be a string") }
        return s
    }

    func unsigned(_ key: String) throws(ProtocolError) -> UInt64 {
        guard let n = value[key]?.uint64Value else { throw ProtocolError("\(context): '\(key)' must be a whole number") }
        return n
    }

    func optionalUnsigned(_ key: String) throws(ProtocolError) -> UInt64? {
        guard let v = value[key], v != .null else { return nil }
        guard let n = v.uint64Value else { throw ProtocolError("\(context): '\(key)' must be a whole number") }
        return n
    }

    /// An agent's number in a job: 1 or more, within UInt32.
    func agentNumber(_ key: String = "agent") throws(ProtocolError) -> UInt32 {
        let n = try unsigned(key)
        guard n > 0, n <= UInt64(UInt32.max) else { throw ProtocolError("\(context): '\(key)' must be an agent number from 1 to \(UInt32.max)") }
        return UInt32(n)
    }

    /// A target index (bounded, so a hostile number cannot size anything).
    func index(_ key: String) throws(ProtocolError) -> Int {
        let n = try unsigned(key)
        guard n < 1 << 20 else { throw ProtocolError("\(context): '\(key)' is out of range") }
        return Int(n)
    }

    func bool(_ key: String, default defaultValue: Bool) throws(ProtocolError) -> Bool {
        guard let v = value[key], v != .null else { return defaultValue }
        guard let b = v.boolValue else { throw ProtocolError("\(context): '\(key)' must be true or false") }
        return b
    }

    func array(_ key: String) throws(ProtocolError) -> [JSONValue] {
        guard let a = value[key]?.arrayValue else { throw ProtocolError("\(context): '\(key)' must be a list") }
        return a
    }

    func path(_ key: String) throws(ProtocolError) -> RelativePath {
        let s = try string(key)
        do {
            return try RelativePath(validating: s)
        } catch {
            throw ProtocolError("\(context): '\(key)' \(s.debugDescription) is not a relative path inside the archive: \(error)")
        }
    }

    func version(_ key: String) throws(ProtocolError) -> FileVersion {
        let s = try string(key)
        guard let v = FileVersion(token: s) else { throw ProtocolError("\(context): '\(key)' must be a version 'inode:size:mtime_ns:ctime_ns', found \(s.debugDescription)") }
        return v
    }

    func checksum(_ key: String) throws(ProtocolError) -> Checksum {
        let s = try string(key)
        guard let c = Checksum(hex: s) else { throw ProtocolError("\(context): '\(key)' must be 32 hex digits (XXH3-128), found \(s.debugDescription)") }
        return c
    }
}
