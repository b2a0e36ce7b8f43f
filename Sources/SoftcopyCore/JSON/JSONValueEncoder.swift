/// Encodes `Encodable` values as a `JSONValue`: the one encoder of the control messages
/// (`ControlMessage`). Object members keep the order in which they were encoded (a
/// type's coding keys), so what goes on the wire is deterministic; integers keep every
/// digit. A nil optional is left out, which every reader takes as null.
public enum JSONValueEncoder {
    public static func encode(_ value: some Encodable) -> JSONValue {
        let node = Node()
        do {
            try value.encode(to: ValueEncoder(node: node, codingPath: []))
        } catch {
            // Only a type's own `encode(to:)` can throw, and the messages' never do;
            // an encoding that would fail says so on the wire instead of trapping.
            return .object([("encoding_error", .string("\(error)"))])
        }
        return node.value
    }
}

/// What one encoder position became. A class: containers keep writing into a member's
/// node after handing it to a nested encoder. Members and elements are stored apart from
/// the kind, so appending is in place (a 4096-entry ack is not copied 4096 times).
private final class Node {
    enum Kind {
        case empty, scalar, object, array
    }

    var kind = Kind.empty
    var scalar = JSONValue.null
    var members: [(key: String, node: Node)] = []
    var elements: [Node] = []

    var value: JSONValue {
        switch kind {
        case .empty: .null
        case .scalar: scalar
        case .object: .object(members.map { ($0.key, $0.node.value) })
        case .array: .array(elements.map(\.value))
        }
    }

    func set(_ value: JSONValue) {
        kind = .scalar
        scalar = value
    }

    /// Member positions by key, kept once an object grows past a few members: a listing
    /// of a million names would otherwise be searched a million times.
    var index: [String: Int] = [:]

    func member(_ key: String) -> Node {
        kind = .object
        if members.count < 16 {
            if let found = members.first(where: { $0.key == key }) { return found.node }
        } else {
            if index.isEmpty {
                for (i, member) in members.enumerated() { index[member.key] = i }
            }
            if let i = index[key] { return members[i].node }
            index[key] = members.count
        }
        let node = Node()
        members.append((key, node))
        return node
    }

    func appendElement() -> Node {
        kind = .array
        let node = Node()
        elements.append(node)
        return node
    }

    func becomeObject() {
        kind = .object
    }

    func becomeArray() {
        kind = .array
    }

    var count: Int { elements.count }
}

/// As in the decoder, a coding path is built only when asked for: an encoder keeps its
/// parent's path and its own key, and strings, booleans and numbers are set in place.
private struct ValueEncoder: Encoder {
    let node: Node
    let parentPath: [any CodingKey]
    let key: (any CodingKey)?
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    var codingPath: [any CodingKey] { key.map { parentPath + [$0] } ?? parentPath }

    init(node: Node, parentPath: [any CodingKey], key: (any CodingKey)?) {
        self.node = node
        self.parentPath = parentPath
        self.key = key
    }

    init(node: Node, codingPath: [any CodingKey]) {
        self.init(node: node, parentPath: codingPath, key: nil)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        node.becomeObject()
        return KeyedEncodingContainer(KeyedContainer<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        node.becomeArray()
        return UnkeyedContainer(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleValue(node: node, parentPath: parentPath, key: key)
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: Node
    let codingPath: [any CodingKey]

    private func set(_ value: JSONValue, _ key: Key) {
        node.member(key.stringValue).set(value)
    }

    mutating func encodeNil(forKey key: Key) { set(.null, key) }
    mutating func encode(_ value: Bool, forKey key: Key) { set(.bool(value), key) }
    mutating func encode(_ value: String, forKey key: Key) { set(.string(value), key) }
    mutating func encode(_ value: Double, forKey key: Key) { set(value.isFinite ? .number("\(value)") : .null, key) }
    mutating func encode(_ value: Float, forKey key: Key) { encode(Double(value), forKey: key) }
    mutating func encode(_ value: Int, forKey key: Key) { set(.integer(value), key) }
    mutating func encode(_ value: Int8, forKey key: Key) { set(.integer(value), key) }
    mutating func encode(_ value: Int16, forKey key: Key) { set(.integer(value), key) }
    mutating func encode(_ value: Int32, forKey key: Key) { set(.integer(value), key) }
    mutating func encode(_ value: Int64, forKey key: Key) { set(.integer(value), key) }
    mutating func encode(_ value: UInt, forKey key: Key) { set(.integer(value), key) }
    mutating func encode(_ value: UInt8, forKey key: Key) { set(.integer(value), key) }
    mutating func encode(_ value: UInt16, forKey key: Key) { set(.integer(value), key) }
    mutating func encode(_ value: UInt32, forKey key: Key) { set(.integer(value), key) }
    mutating func encode(_ value: UInt64, forKey key: Key) { set(.integer(value), key) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try value.encode(to: ValueEncoder(node: node.member(key.stringValue), parentPath: codingPath, key: key))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        ValueEncoder(node: node.member(key.stringValue), parentPath: codingPath, key: key).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        ValueEncoder(node: node.member(key.stringValue), parentPath: codingPath, key: key).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        ValueEncoder(node: node.member("super"), codingPath: codingPath)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        ValueEncoder(node: node.member(key.stringValue), parentPath: codingPath, key: key)
    }
}

private struct UnkeyedContainer: UnkeyedEncodingContainer {
    let node: Node
    let codingPath: [any CodingKey]
    var count: Int { node.count }

    private func next() -> ValueEncoder {
        let index = IndexKey(node.count)
        return ValueEncoder(node: node.appendElement(), parentPath: codingPath, key: index)
    }

    mutating func encodeNil() {
        next().node.set(.null)
    }

    mutating func encode(_ value: String) { node.appendElement().set(.string(value)) }
    mutating func encode(_ value: UInt64) { node.appendElement().set(.integer(value)) }
    mutating func encode(_ value: Int) { node.appendElement().set(.integer(value)) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try value.encode(to: next())
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        next().container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        next().unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        next()
    }
}

private struct SingleValue: SingleValueEncodingContainer {
    let node: Node
    let parentPath: [any CodingKey]
    let key: (any CodingKey)?
    var codingPath: [any CodingKey] { key.map { parentPath + [$0] } ?? parentPath }

    private func set(_ value: JSONValue) {
        node.set(value)
    }

    mutating func encodeNil() { set(.null) }
    mutating func encode(_ value: Bool) { set(.bool(value)) }
    mutating func encode(_ value: String) { set(.string(value)) }
    mutating func encode(_ value: Double) { set(value.isFinite ? .number("\(value)") : .null) }
    mutating func encode(_ value: Float) { encode(Double(value)) }
    mutating func encode(_ value: Int) { set(.integer(value)) }
    mutating func encode(_ value: Int8) { set(.integer(value)) }
    mutating func encode(_ value: Int16) { set(.integer(value)) }
    mutating func encode(_ value: Int32) { set(.integer(value)) }
    mutating func encode(_ value: Int64) { set(.integer(value)) }
    mutating func encode(_ value: UInt) { set(.integer(value)) }
    mutating func encode(_ value: UInt8) { set(.integer(value)) }
    mutating func encode(_ value: UInt16) { set(.integer(value)) }
    mutating func encode(_ value: UInt32) { set(.integer(value)) }
    mutating func encode(_ value: UInt64) { set(.integer(value)) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try value.encode(to: ValueEncoder(node: node, parentPath: parentPath, key: key))
    }
}
