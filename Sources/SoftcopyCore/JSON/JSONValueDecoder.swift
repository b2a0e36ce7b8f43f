/// Decodes `Decodable` values from a parsed `JSONValue`: the one decoder of the control
/// messages (`ControlMessage`). Numbers are decoded from their literal text, so a 64-bit
/// size or inode is exact. Every failure is a `ProtocolError` that names the message and
/// the field ("lease grant: 'items[2].path' must be a string"), so a 400 tells the sender
/// exactly what was wrong.
public enum JSONValueDecoder {
    public static func decode<T: Decodable>(_ type: T.Type, from value: JSONValue, context: String) throws(ProtocolError) -> T {
        do {
            return try T(from: ValueDecoder(value: value, codingPath: []))
        } catch let error as DecodingError {
            throw ProtocolError("\(context): \(describe(error))")
        } catch {
            throw ProtocolError("\(context): \(error)")
        }
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let context):
            return "'\(pathText(context.codingPath + [key]))' is missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            let path = pathText(context.codingPath)
            return path.isEmpty ? context.debugDescription : "'\(path)' \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    /// `items[2].path`, as the sender would write it.
    static func pathText(_ path: [any CodingKey]) -> String {
        var text = ""
        for key in path {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += text.isEmpty ? key.stringValue : "." + key.stringValue
            }
        }
        return text
    }
}

/// The position of an element in a list, as a coding key.
struct IndexKey: CodingKey {
    var intValue: Int?
    var stringValue: String { "\(intValue ?? 0)" }
    init(_ index: Int) { intValue = index }
    init?(intValue: Int) { self.intValue = intValue }
    init?(stringValue: String) { nil }
}

/// Coding paths are built only when asked for (an error, or a nested container): a
/// decoder keeps its parent's path and its own key, so a leaf field costs no array.
/// Decoding a bundle's frames field by field through `codingPath + [key]` made the
/// small-files copy through an agent 7% slower (bench/small_files.py, 50,000 files).
private struct ValueDecoder: Decoder {
    let value: JSONValue
    let parentPath: [any CodingKey]
    let key: (any CodingKey)?
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    var codingPath: [any CodingKey] { key.map { parentPath + [$0] } ?? parentPath }

    init(value: JSONValue, parentPath: [any CodingKey], key: (any CodingKey)?) {
        self.value = value
        self.parentPath = parentPath
        self.key = key
    }

    init(value: JSONValue, codingPath: [any CodingKey]) {
        self.init(value: value, parentPath: codingPath, key: nil)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = value else {
            throw DecodingError.typeMismatch([String: JSONValue].self, .init(codingPath: codingPath, debugDescription: "must be a JSON object"))
        }
        return KeyedDecodingContainer(KeyedContainer<Key>(members: members, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = value else {
            throw DecodingError.typeMismatch([JSONValue].self, .init(codingPath: codingPath, debugDescription: "must be a list"))
        }
        return UnkeyedContainer(elements: elements, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        SingleValue(value: value, parentPath: parentPath, key: key)
    }
}

/// Looks members up in the object's own list, from the end: the last member wins where a
/// key repeats, as Python's json module does. A message has a handful of members, and a
/// search through them is cheaper than a dictionary built per object (a bundle has one
/// frame header per file). Strings, booleans and numbers are read in place, without a
/// nested decoder.
private struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let members: [(key: String, value: JSONValue)]
    let codingPath: [any CodingKey]

    private func member(_ name: String) -> JSONValue? {
        members.last(where: { $0.key == name })?.value
    }

    var allKeys: [Key] { members.compactMap { Key(stringValue: $0.key) } }

    func contains(_ key: Key) -> Bool { member(key.stringValue) != nil }

    private func value(_ key: Key) throws -> JSONValue {
        guard let value = member(key.stringValue) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "is missing"))
        }
        return value
    }

    private func leaf(_ key: Key) throws -> SingleValue {
        SingleValue(value: try value(key), parentPath: codingPath, key: key)
    }

    func decodeNil(forKey key: Key) throws -> Bool { try value(key) == .null }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try leaf(key).decode(type) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try leaf(key).decode(type) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try leaf(key).decode(type) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try leaf(key).decode(type) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try leaf(key).decode(type) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try leaf(key).decode(type) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try leaf(key).decode(type) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try leaf(key).decode(type) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try leaf(key).decode(type) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try leaf(key).decode(type) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try leaf(key).decode(type) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try leaf(key).decode(type) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try leaf(key).decode(type) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try leaf(key).decode(type) }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try T(from: ValueDecoder(value: try value(key), parentPath: codingPath, key: key))
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try ValueDecoder(value: try value(key), parentPath: codingPath, key: key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try ValueDecoder(value: try value(key), parentPath: codingPath, key: key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        ValueDecoder(value: .object(members), codingPath: codingPath)
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        ValueDecoder(value: member(key.stringValue) ?? .null, parentPath: codingPath, key: key)
    }
}

private struct UnkeyedContainer: UnkeyedDecodingContainer {
    let elements: [JSONValue]
    let codingPath: [any CodingKey]
    var currentIndex = 0

    init(elements: [JSONValue], codingPath: [any CodingKey]) {
        self.elements = elements
        self.codingPath = codingPath
    }

    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    private mutating func next() throws -> ValueDecoder {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(JSONValue.self, .init(codingPath: codingPath, debugDescription: "has too few elements"))
        }
        defer { currentIndex += 1 }
        return ValueDecoder(value: elements[currentIndex], parentPath: codingPath, key: IndexKey(currentIndex))
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, elements[currentIndex] == .null else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try T(from: try next())
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next().container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try next().unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        try next()
    }
}

private struct SingleValue: SingleValueDecodingContainer {
    let value: JSONValue
    let parentPath: [any CodingKey]
    let key: (any CodingKey)?
    var codingPath: [any CodingKey] { key.map { parentPath + [$0] } ?? parentPath }

    func decodeNil() -> Bool { value == .null }

    private func mismatch<T>(_ type: T.Type, _ kind: String) -> DecodingError {
        DecodingError.typeMismatch(type, .init(codingPath: codingPath, debugDescription: "must be \(kind)"))
    }

    func decode(_ type: Bool.Type) throws -> Bool {
        guard case .bool(let b) = value else { throw mismatch(type, "true or false") }
        return b
    }

    func decode(_ type: String.Type) throws -> String {
        guard case .string(let s) = value else { throw mismatch(type, "a string") }
        return s
    }

    func decode(_ type: Double.Type) throws -> Double {
        guard let d = value.doubleValue else { throw mismatch(type, "a number") }
        return d
    }

    func decode(_ type: Float.Type) throws -> Float { Float(try decode(Double.self)) }

    /// Every integer type: from the literal, so an out-of-range or fractional number is
    /// an error, not a rounded value.
    private func integer<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        guard let n = value.whole(type) else {
            throw mismatch(type, T.isSigned ? "a whole number" : "a whole number from 0 to \(T.max)")
        }
        return n
    }

    func decode(_ type: Int.Type) throws -> Int { try integer(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(type) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try T(from: ValueDecoder(value: value, parentPath: parentPath, key: key))
    }
}
