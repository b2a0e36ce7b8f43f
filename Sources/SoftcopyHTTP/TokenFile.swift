import Glibc
public import Logging
import NIOHTTP1
import SoftcopyIO

/// The shared token: read from a file (so it is not on a command line for `ps` to show),
/// and compared in constant time.
public enum TokenFile {
    public struct Error: Swift.Error, CustomStringConvertible {
        public var description: String
    }

    /// The token in `path`, or nil when no token file is configured.
    public static func read(optional path: String?) throws(Error) -> String? {
        guard let path else { return nil }
        return try read(path)
    }

    public static func read(_ path: String) throws(Error) -> String {
        let bytes: [UInt8]
        do {
            bytes = try readSmallFile(path, limit: 4096)
        } catch {
            throw Error(description: "cannot read the token file \(path): \(error)")
        }
        let token = String(decoding: bytes, as: UTF8.self).split(whereSeparator: { $0 == "\n" || $0 == "\r" }).first.map(String.init) ?? ""
        let trimmed = token.trimmingCharacters(in: " \t")
        guard trimmed.utf8.count >= 8 else {
            throw Error(description: "the token file \(path) must hold a token of at least 8 characters on its first line")
        }
        guard trimmed.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw Error(description: "the token in \(path) must be printable ASCII without spaces")
        }
        return trimmed
    }

    /// Constant-time equality, so response timing does not reveal how much of a guess was right.
    public static func matches(_ presented: String?, _ expected: String) -> Bool {
        guard let presented else { return false }
        let a = Array(presented.utf8), b = Array(expected.utf8)
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for i in 0..<b.count {
            difference |= (i < a.count ? a[i] : 0) ^ b[i]
        }
        return difference == 0
    }
}

extension TokenFile {
    /// The 401 for a request without the shared token (`token` nil: none is needed), logged
    /// with the peer's address; nil when the request may go on. `server` names who refuses
    /// ("this agent", "this coordinator").
    public static func refusal(of request: HTTPRequest, token: String?, server: String, logger: Logger) -> HTTPResponse? {
        refusal(of: request, accepting: token.map { [$0] } ?? [], needs: "\(server) needs the shared token", logger: logger)
    }

    /// The same for a request that any of `tokens` lets in (none: every request may go
    /// on); `needs` says what was missing.
    public static func refusal(of request: HTTPRequest, accepting tokens: [String], needs: String, logger: Logger) -> HTTPResponse? {
        guard !tokens.isEmpty, !tokens.contains(where: { matches(request.bearerToken, $0) }) else { return nil }
        logger.warning("refused \(request.method) \(request.uri) from \(request.remote): \(request.bearerToken == nil ? "no" : "a wrong") token (401)")
        return .error(.unauthorized, "\(needs) (Authorization: Bearer ...)")
    }
}
