// The reading of one value that the hand-written paths (see `ControlMessage`) and the
// decoder share: each takes exactly what the type's `Decodable` takes, and nil for
// anything else.

extension JSONValue {
    /// A whole number in `T`'s range, from its literal, as the decoder reads integers.
    func whole<T: FixedWidthInteger>(_ type: T.Type) -> T? {
        guard case .number(let text) = self else { return nil }
        return T(text)
    }

    /// A value written as one string (`WireText`), parsed with its own check.
    func wire<W: WireText>(_ type: W.Type) -> W? {
        guard case .string(let text) = self else { return nil }
        return try? W.parse(wireText: text).get()
    }

    var lane: LaneID? { whole(Int.self).flatMap(LaneID.init(wire:)) }

    var agent: NodeID? { whole(UInt32.self).flatMap(NodeID.init(agent:)) }

    /// An optional member: absent or null is nil (as `decodeIfPresent`); `read` nil for a
    /// value that is there but not taken fails the whole message (`.some(nil)` is never
    /// returned for a present, bad value: the outer nil is).
    static func optional<T>(_ value: JSONValue?, _ read: (JSONValue) -> T?) -> T?? {
        guard let value, value != .null else { return .some(nil) }
        guard let read = read(value) else { return nil }
        return .some(read)
    }
}
