import CAvahi
import Logging

/// What owns the Avahi objects (entry groups, browsers) made on one client.
protocol AvahiClientOwner: AnyObject {
    /// The daemon is running: create (or re-create) entry groups or browsers.
    func clientRunning(_ client: OpaquePointer)
    /// The host name is being (re-)registered: withdraw what was published.
    func clientRegistering(_ client: OpaquePointer)
    /// The daemon went away: free every object made on the client.
    func clientGone()
    /// The client waits for avahi-daemon (not running, or the system D-Bus unreachable).
    func clientConnecting()
}

/// One Avahi client on a threaded poll, kept alive across avahi-daemon restarts: it
/// starts with AVAHI_CLIENT_NO_FAIL (so a missing daemon is waited for, not an error),
/// and when the daemon disconnects it frees everything and connects anew, as the Avahi
/// documentation prescribes. Every callback runs on the poll's thread; other threads
/// call in under `withLock`.
///
/// `@unchecked Sendable`: it wraps Avahi's C handles (threaded poll, client), which are
/// touched only on the poll's thread or under its lock.
final class AvahiClientLoop: @unchecked Sendable {
    private let poll: OpaquePointer
    private var client: OpaquePointer?
    private unowned let owner: any AvahiClientOwner
    private let logger: Logger
    private let what: String
    private var waitingLogged = false

    init(owner: any AvahiClientOwner, what: String, logger: Logger) throws(DiscoveryError) {
        guard let poll = avahi_threaded_poll_new() else { throw DiscoveryError("cannot create Avahi's event loop") }
        self.poll = poll
        self.owner = owner
        self.logger = logger
        self.what = what
        // Before the poll thread starts, this thread is the only one touching the client.
        guard connect() else {
            avahi_threaded_poll_free(poll)
            throw DiscoveryError("cannot create an Avahi client")
        }
        guard avahi_threaded_poll_start(poll) >= 0 else {
            owner.clientGone()
            if let client { avahi_client_free(client) }
            avahi_threaded_poll_free(poll)
            throw DiscoveryError("cannot start Avahi's event loop thread")
        }
    }

    /// Runs `body` with the poll's lock held (any thread but the poll's own).
    func withLock<T>(_ body: () -> T) -> T {
        avahi_threaded_poll_lock(poll)
        defer { avahi_threaded_poll_unlock(poll) }
        return body()
    }

    /// Stops the poll thread and frees everything.
    func stop() {
        avahi_threaded_poll_stop(poll)
        owner.clientGone()
        if let client { avahi_client_free(client) }
        client = nil
        avahi_threaded_poll_free(poll)
    }

    private func connect() -> Bool {
        var error: Int32 = 0
        let me = Unmanaged.passUnretained(self).toOpaque()
        client = avahi_client_new(avahi_threaded_poll_get(poll), AVAHI_CLIENT_NO_FAIL, { client, state, userdata in
            guard let client, let userdata else { return }
            Unmanaged<AvahiClientLoop>.fromOpaque(userdata).takeUnretainedValue().changed(client, state)
        }, me, &error)
        if client == nil {
            logger.error("\(what): cannot create an Avahi client: \(Self.message(error))")
        }
        return client != nil
    }

    /// Client state changes (on the poll thread, or inside avahi_client_new).
    private func changed(_ client: OpaquePointer, _ state: AvahiClientState) {
        logger.debug("\(what): Avahi client state \(state.rawValue)")
        switch state {
        case AVAHI_CLIENT_S_RUNNING:
            waitingLogged = false
            owner.clientRunning(client)
        case AVAHI_CLIENT_S_REGISTERING, AVAHI_CLIENT_S_COLLISION:
            owner.clientRegistering(client)
        case AVAHI_CLIENT_CONNECTING:
            owner.clientConnecting()
            if !waitingLogged {
                logger.warning("\(what): avahi-daemon is not running (or the system D-Bus is not reachable); waiting for it")
                waitingLogged = true
            }
        case AVAHI_CLIENT_FAILURE:
            let error = avahi_client_errno(client)
            owner.clientGone()
            avahi_client_free(client)
            self.client = nil
            if error == AVAHI_ERR_DISCONNECTED {
                logger.warning("\(what): avahi-daemon went away; reconnecting")
            } else {
                logger.error("\(what): Avahi failed (\(Self.message(error))); reconnecting")
            }
            _ = connect()
        default:
            break
        }
    }

    static func message(_ error: Int32) -> String {
        String(cString: avahi_strerror(error))
    }
}
