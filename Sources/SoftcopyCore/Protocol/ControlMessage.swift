/// A body of the HTTP control API (docs/http-api.md): a `Codable` type whose coding keys
/// are the wire names. Every message is read and written by the one pair of coders over
/// `JSONValue`; only the million-entry listing and the manifest keep encoders of their
/// own (see `AgentListing` and `Manifest` for the figures).
public protocol ControlMessage: Codable, Sendable {
    /// What the message is called in an error ("lease request: 'max_items' must be ...").
    static var messageName: String { get }
}

extension ControlMessage {
    public var json: JSONValue { JSONValueEncoder.encode(self) }

    public init(json: JSONValue) throws(ProtocolError) {
        self = try JSONValueDecoder.decode(Self.self, from: json, context: Self.messageName)
    }

    /// Parses and decodes a request or response body.
    public init(body: [UInt8]) throws(ProtocolError) {
        try self.init(json: try ProtocolError.parseBody(body, what: "the \(Self.messageName)"))
    }
}
