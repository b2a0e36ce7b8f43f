/// A service found on the network and resolved to an address.
public struct DiscoveredService: Sendable, Hashable {
    /// The DNS-SD instance name (unique on the network).
    public var name: String
    /// The advertising host's name, such as `store1.local`.
    public var host: String
    /// Its address, as text (IPv4 dotted, or IPv6).
    public var address: String
    public var port: UInt16
    public var txt: [String: String]

    public init(name: String, host: String, address: String, port: UInt16, txt: [String: String]) {
        self.name = name
        self.host = host
        self.address = address
        self.port = port
        self.txt = txt
    }

    /// `http://ADDRESS:PORT` (IPv6 in brackets); `https://` when the TXT record says `tls=yes`.
    public var url: String {
        let scheme = txt["tls"] == "yes" ? "https" : "http"
        return address.contains(":") ? "\(scheme)://[\(address)]:\(port)" : "\(scheme)://\(address):\(port)"
    }
}
