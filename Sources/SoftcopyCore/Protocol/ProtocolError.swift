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
