import CAvahi

/// DNS-SD TXT records as `key=value` pairs, to and from Avahi's string lists.
enum TXTRecord {
    /// A new string list (free it with `avahi_string_list_free`); keys are sorted so the
    /// record is the same for the same pairs.
    static func list(_ pairs: [String: String]) -> UnsafeMutablePointer<AvahiStringList>? {
        var list: UnsafeMutablePointer<AvahiStringList>?
        for (key, value) in pairs.sorted(by: { $0.key > $1.key }) {
            // avahi_string_list_add prepends: add in reverse to keep the order.
            list = avahi_string_list_add(list, key + "=" + value)
        }
        return list
    }

    static func pairs(_ list: UnsafeMutablePointer<AvahiStringList>?) -> [String: String] {
        var result: [String: String] = [:]
        var item = list
        while let current = item {
            var key: UnsafeMutablePointer<CChar>?
            var value: UnsafeMutablePointer<CChar>?
            if avahi_string_list_get_pair(current, &key, &value, nil) == 0, let key {
                result[String(cString: key)] = value.map { String(cString: $0) } ?? ""
                avahi_free(key)
                if let value { avahi_free(value) }
            }
            item = avahi_string_list_get_next(current)
        }
        return result
    }
}
