public import NIOCore
public import NIOHTTP1

/// One request as the responders see it: the path split into percent-decoded
/// components, the query as a dictionary, and the whole body (small: control messages).
public struct HTTPRequest: Sendable {
    public var method: HTTPMethod
    public var uri: String
    /// Percent-decoded path components; `..` and empty ones are kept, for the router to refuse.
    public var components: [String]
    public var query: [String: String]
    public var headers: HTTPHeaders
    public var body: ByteBuffer
    /// The peer's address, for the log.
    public var remote: String

    public init(method: HTTPMethod, uri: String, headers: HTTPHeaders, body: ByteBuffer, remote: String) {
        self.method = method
        self.uri = uri
        self.headers = headers
        self.body = body
        self.remote = remote
        let (path, query) = URLCoding.split(uri)
        self.components = path
        self.query = query
    }

    public var bodyBytes: [UInt8] { Array(buffer: body) }

    /// The token from `Authorization: Bearer TOKEN`, if any.
    public var bearerToken: String? {
        guard let value = headers.first(name: "authorization") else { return nil }
        let prefix = "bearer "
        guard value.lowercased().hasPrefix(prefix) else { return nil }
        return String(value.dropFirst(prefix.count)).trimmingCharacters(in: " \t")
    }

    public func queryFlag(_ name: String) -> Bool {
        guard let v = query[name] else { return false }
        return v == "" || v == "1" || v == "true" || v == "yes"
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let c = s.first, set.contains(c) { s.removeFirst() }
        while let c = s.last, set.contains(c) { s.removeLast() }
        return String(s)
    }
}
