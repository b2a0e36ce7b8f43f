import CAvahi
public import Logging

/// Advertises one DNS-SD service through avahi-daemon and keeps it advertised: after a
/// name collision it takes Avahi's alternative name ("store1 #2"), after the daemon
/// restarts it registers again, and its TXT record can be updated in place.
///
/// `@unchecked Sendable`: it wraps Avahi's entry group handle, touched only under the
/// client loop's lock or on its thread.
public final class ServicePublisher: AvahiClientOwner, @unchecked Sendable {
    public let type: String
    public let port: UInt16
    private let logger: Logger
    private var loop: AvahiClientLoop?
    // Guarded by the poll lock (or touched only on the poll thread).
    private var name: String
    private var txt: [String: String]
    private var group: OpaquePointer?
    private var announced = false

    /// Starts publishing; avahi-daemon need not be running yet.
    public init(name: String, type: String, port: UInt16, txt: [String: String], logger: Logger) throws(DiscoveryError) {
        self.name = name
        self.type = type
        self.port = port
        self.txt = txt
        self.logger = logger
        loop = try AvahiClientLoop(owner: self, what: "advertising \(type)", logger: logger)
    }

    /// The name the service is advertised under now (it changes after a collision).
    public var currentName: String {
        loop?.withLock { name } ?? name
    }

    /// Replaces the TXT record (for example, the free space), without withdrawing the service.
    public func update(txt newValue: [String: String]) {
        loop?.withLock {
            guard newValue != txt else { return }
            txt = newValue
            guard let group, announced else { return }  // the next registration uses it
            let list = TXTRecord.list(newValue)
            defer { avahi_string_list_free(list) }
            let result = avahi_entry_group_update_service_txt_strlst(
                group, AvahiIfIndex(AVAHI_IF_UNSPEC), AvahiProtocol(AVAHI_PROTO_UNSPEC), AvahiPublishFlags(0), name, type, nil, list)
            if result < 0 {
                logger.warning("cannot update the advertised TXT record: \(AvahiClientLoop.message(result))")
            }
        }
    }

    /// Withdraws the service and disconnects.
    public func stop() {
        loop?.stop()
        loop = nil
    }

    // MARK: - Poll thread

    func clientRunning(_ client: OpaquePointer) {
        register(client)
    }

    func clientRegistering(_ client: OpaquePointer) {
        if let group { avahi_entry_group_reset(group) }
        announced = false
    }

    func clientConnecting() {}

    func clientGone() {
        if let group { avahi_entry_group_free(group) }
        group = nil
        announced = false
    }

    private func register(_ client: OpaquePointer) {
        if group == nil {
            let me = Unmanaged.passUnretained(self).toOpaque()
            group = avahi_entry_group_new(client, { group, state, userdata in
                guard let group, let userdata else { return }
                Unmanaged<ServicePublisher>.fromOpaque(userdata).takeUnretainedValue().changed(group, state)
            }, me)
            guard group != nil else {
                logger.error("cannot create an Avahi entry group: \(AvahiClientLoop.message(avahi_client_errno(client)))")
                return
            }
        }
        guard let group, avahi_entry_group_is_empty(group) != 0 else { return }
        while true {
            let list = TXTRecord.list(txt)
            let result = avahi_entry_group_add_service_strlst(
                group, AvahiIfIndex(AVAHI_IF_UNSPEC), AvahiProtocol(AVAHI_PROTO_UNSPEC), AvahiPublishFlags(0),
                name, type, nil, nil, port, list)
            avahi_string_list_free(list)
            if result == AVAHI_ERR_COLLISION {
                rename(because: "a local service already has it")
                continue
            }
            if result < 0 {
                logger.error("cannot advertise \(name) as \(type): \(AvahiClientLoop.message(result))")
                return
            }
            break
        }
        let committed = avahi_entry_group_commit(group)
        if committed < 0 {
            logger.error("cannot advertise \(name) as \(type): \(AvahiClientLoop.message(committed))")
        }
    }

    private func rename(because reason: String) {
        guard let alternative = avahi_alternative_service_name(name) else { return }
        let next = String(cString: alternative)
        avahi_free(alternative)
        logger.warning("the service name \(name) is taken (\(reason)); advertising as \(next)")
        name = next
    }

    private func changed(_ group: OpaquePointer, _ state: AvahiEntryGroupState) {
        switch state {
        case AVAHI_ENTRY_GROUP_ESTABLISHED:
            announced = true
            logger.info("advertised through Avahi as \(name) (\(type), port \(port))")
        case AVAHI_ENTRY_GROUP_COLLISION:
            announced = false
            rename(because: "another host on the network uses it")
            avahi_entry_group_reset(group)
            register(avahi_entry_group_get_client(group))
        case AVAHI_ENTRY_GROUP_FAILURE:
            announced = false
            logger.error("advertising through Avahi failed: \(AvahiClientLoop.message(avahi_client_errno(avahi_entry_group_get_client(group))))")
        default:
            break
        }
    }
}
