import CAvahi
public import Logging

/// Browses one DNS-SD service type through avahi-daemon and resolves each instance.
/// Events arrive on Avahi's thread; handlers must not block.
///
/// `@unchecked Sendable`: it wraps Avahi's browser and resolver handles, touched only
/// under the client loop's lock or on its thread.
public final class ServiceBrowser: AvahiClientOwner, @unchecked Sendable {
    public enum Event: Sendable {
        /// Resolved (again, if its address, port or TXT record changed).
        case found(DiscoveredService)
        /// Withdrawn from every interface it was seen on.
        case lost(name: String)
        /// Everything already on the network has been reported once.
        case allForNow
        /// avahi-daemon is not running (or the system D-Bus is not reachable): nothing
        /// will be found until it is.
        case unavailable
        /// Connected to avahi-daemon (again); browsing.
        case available
    }

    public let type: String
    private let logger: Logger
    private let handler: @Sendable (Event) -> Void
    private var loop: AvahiClientLoop?
    // Poll thread only.
    private var browser: OpaquePointer?
    private var resolvers: [String: OpaquePointer] = [:]
    /// Interfaces and protocols each instance is currently seen on.
    private var sightings: [String: Set<String>] = [:]

    public init(type: String, logger: Logger, handler: @escaping @Sendable (Event) -> Void) throws(DiscoveryError) {
        self.type = type
        self.logger = logger
        self.handler = handler
        loop = try AvahiClientLoop(owner: self, what: "browsing \(type)", logger: logger)
    }

    public func stop() {
        loop?.stop()
        loop = nil
    }

    // MARK: - Poll thread

    func clientRunning(_ client: OpaquePointer) {
        handler(.available)
        guard browser == nil else { return }
        let me = Unmanaged.passUnretained(self).toOpaque()
        browser = avahi_service_browser_new(
            client, AvahiIfIndex(AVAHI_IF_UNSPEC), AvahiProtocol(AVAHI_PROTO_UNSPEC), type, nil, AvahiLookupFlags(0),
            { _, interface, proto, event, name, type, domain, _, userdata in
                guard let userdata else { return }
                Unmanaged<ServiceBrowser>.fromOpaque(userdata).takeUnretainedValue()
                    .browsed(interface, proto, event, name, type, domain)
            }, me)
        if browser == nil {
            logger.error("cannot browse \(type): \(AvahiClientLoop.message(avahi_client_errno(client)))")
        }
    }

    func clientRegistering(_ client: OpaquePointer) {}

    func clientConnecting() {
        handler(.unavailable)
    }

    func clientGone() {
        for resolver in resolvers.values { avahi_service_resolver_free(resolver) }
        resolvers.removeAll()
        if let browser { avahi_service_browser_free(browser) }
        browser = nil
        // The daemon is gone, and with it what it told us; a fresh browse reports it again.
        for name in sightings.keys { handler(.lost(name: name)) }
        sightings.removeAll()
    }

    private func browsed(
        _ interface: AvahiIfIndex, _ proto: AvahiProtocol, _ event: AvahiBrowserEvent,
        _ name: UnsafePointer<CChar>?, _ type: UnsafePointer<CChar>?, _ domain: UnsafePointer<CChar>?
    ) {
        logger.debug("browsing \(self.type): event \(event.rawValue) \(name.map { String(cString: $0) } ?? "") on interface \(interface)")
        switch event {
        case AVAHI_BROWSER_NEW:
            guard let name, let type, let domain, let browser else { return }
            let instance = String(cString: name)
            let sighting = "\(interface)/\(proto)"
            sightings[instance, default: []].insert(sighting)
            guard resolvers[instance + "|" + sighting] == nil else { return }
            let me = Unmanaged.passUnretained(self).toOpaque()
            // Seen over IPv4: ask for its IPv4 address. With "any address" Avahi may answer
            // with the IPv6 link-local one, which is unusable in a URL and was then the only
            // answer: an agent could stay unfound (a flaky `verify` in CI).
            let addressProtocol = proto == AvahiProtocol(AVAHI_PROTO_INET) ? proto : AvahiProtocol(AVAHI_PROTO_UNSPEC)
            let resolver = avahi_service_resolver_new(
                avahi_service_browser_get_client(browser), interface, proto, name, type, domain,
                addressProtocol, AvahiLookupFlags(0),
                { resolver, _, _, event, name, _, _, host, address, port, txt, _, userdata in
                    guard let resolver, let userdata else { return }
                    Unmanaged<ServiceBrowser>.fromOpaque(userdata).takeUnretainedValue()
                        .resolved(resolver, event, name, host, address, port, txt)
                }, me)
            if let resolver {
                resolvers[instance + "|" + sighting] = resolver
            } else {
                logger.warning("cannot resolve \(instance): \(AvahiClientLoop.message(avahi_client_errno(avahi_service_browser_get_client(browser))))")
            }
        case AVAHI_BROWSER_REMOVE:
            guard let name else { return }
            let instance = String(cString: name)
            let sighting = "\(interface)/\(proto)"
            sightings[instance]?.remove(sighting)
            if let resolver = resolvers.removeValue(forKey: instance + "|" + sighting) { avahi_service_resolver_free(resolver) }
            if sightings[instance]?.isEmpty ?? false {
                sightings[instance] = nil
                handler(.lost(name: instance))
            }
        case AVAHI_BROWSER_ALL_FOR_NOW:
            handler(.allForNow)
        case AVAHI_BROWSER_FAILURE:
            logger.error("browsing \(self.type) failed: \(AvahiClientLoop.message(avahi_client_errno(avahi_service_browser_get_client(browser))))")
        default:
            break
        }
    }

    /// A resolver is kept open, so it reports again when the TXT record changes.
    private func resolved(
        _ resolver: OpaquePointer, _ event: AvahiResolverEvent, _ name: UnsafePointer<CChar>?, _ host: UnsafePointer<CChar>?,
        _ address: UnsafePointer<AvahiAddress>?, _ port: UInt16, _ txt: UnsafeMutablePointer<AvahiStringList>?
    ) {
        guard event == AVAHI_RESOLVER_FOUND, let name, let address else {
            if event == AVAHI_RESOLVER_FAILURE, let name {
                logger.warning("cannot resolve \(String(cString: name)): \(AvahiClientLoop.message(avahi_client_errno(avahi_service_resolver_get_client(resolver))))")
            }
            if let key = resolvers.first(where: { $0.value == resolver })?.key { resolvers[key] = nil }
            avahi_service_resolver_free(resolver)
            return
        }
        var text = [CChar](repeating: 0, count: Int(AVAHI_ADDRESS_STR_MAX))
        avahi_address_snprint(&text, text.count, address)
        let addressText = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        // A link-local IPv6 address needs an interface to be reachable: not usable as a URL.
        if addressText.lowercased().hasPrefix("fe80:") {
            logger.debug("\(String(cString: name)) resolved to the link-local \(addressText): not usable, waiting for another address")
            return
        }
        let service = DiscoveredService(
            name: String(cString: name), host: host.map { String(cString: $0) } ?? "", address: addressText,
            port: port, txt: TXTRecord.pairs(txt))
        handler(.found(service))
    }
}
