/// Agent URLs and listen addresses as users write them.
public enum AgentAddress {
    /// `http://host:port` (or https) without a trailing slash or path; nil if it is not one.
    /// A bare `host:port` gets `http://`.
    public static func normalizedURL(_ text: String) -> String? {
        var s = text
        if !s.contains("://") { s = "http://" + s }
        while s.hasSuffix("/") { s.removeLast() }
        let scheme: String
        if s.hasPrefix("http://") { scheme = "http://" } else if s.hasPrefix("https://") { scheme = "https://" } else { return nil }
        let rest = String(s.dropFirst(scheme.count))
        guard !rest.contains("/"), !rest.contains("?"), !rest.contains("@"), hostAndPort(rest) != nil else { return nil }
        return scheme + rest
    }

    /// Splits `host:port` (IPv6 in brackets); nil unless the port is 0–65535.
    public static func hostAndPort(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        var host = String(text[..<colon])
        guard let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port), !host.isEmpty else { return nil }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.contains(" "), !host.isEmpty else { return nil }
        return (host, port)
    }
}
