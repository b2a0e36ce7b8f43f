/// A body of the HTTP control API (docs/http-api.md): a `Codable` type whose coding keys
/// are the wire names. Every message is read and written by the one pair of coders over
/// `JSONValue`; only the million-entry listing and the manifest keep encoders of their
/// own (see `AgentListing` and `Manifest` for the figures).
///
/// The messages sent once per file (a grant's items, a bundle request's items, a bundle's
/// frames, an ack's entries) also have a hand-written path: through the coders alone, 50,000
/// small files through one agent took 14% more CPU, all of it the coders' allocations
/// (docs/performance.md). `handWritten` is exactly the JSON the encoder writes, and
/// `handRead` takes only what the decoder takes, to the same value, and nil for anything
/// else: that goes through the decoder, whose error names the field. Tests hold both
/// paths to each other.
public protocol ControlMessage: Codable, Sendable {
    /// What the message is called in an error ("lease request: 'max_items' must be ...").
    static var messageName: String { get }
    var handWritten: JSONValue? { get }
    static func handRead(_ json: JSONValue) -> Self?
}

extension ControlMessage {
    public var handWritten: JSONValue? { nil }
    public static func handRead(_ json: JSONValue) -> Self? { nil }

    public var json: JSONValue { handWritten ?? JSONValueEncoder.encode(self) }

    public init(json: JSONValue) throws(ProtocolError) {
        if let read = Self.handRead(json) {
            self = read
            return
        }
        self = try JSONValueDecoder.decode(Self.self, from: json, context: Self.messageName)
    }

    /// Parses and decodes a request or response body.
    public init(body: [UInt8]) throws(ProtocolError) {
        try self.init(json: try ProtocolError.parseBody(body, what: "the \(Self.messageName)"))
    }
}
