extension KeyedDecodingContainer {
    /// The list under `key`, counted before any element is decoded (a hostile list is
    /// refused unread); `check` may refuse an element, saying why, and the error names it.
    func decodeList<T: Decodable>(_ type: T.Type, forKey key: Key, count allowed: ClosedRange<Int>,
                                  check: (T) -> String? = { _ in nil }) throws -> [T] {
        var list = try nestedUnkeyedContainer(forKey: key)
        let count = list.count ?? 0
        guard allowed.contains(count) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "must list from \(allowed.lowerBound) to \(allowed.upperBound) elements, found \(count)")
        }
        var elements: [T] = []
        elements.reserveCapacity(count)
        while !list.isAtEnd {
            let element = try list.decode(T.self)
            if let reason = check(element) {
                throw DecodingError.dataCorrupted(.init(codingPath: list.codingPath + [IndexKey(list.currentIndex - 1)], debugDescription: reason))
            }
            elements.append(element)
        }
        return elements
    }
}
