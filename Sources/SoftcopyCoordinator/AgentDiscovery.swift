import Logging
import Synchronization
import SoftcopyCore
import SoftcopyDiscovery
import SoftcopyIO

/// Finds agents through Avahi (`_softcopy._tcp`), one browser for the whole process (the
/// service's, shared by its jobs): at a job's start it tells the job whether any agent is
/// there (to choose between agents and a local copy), and afterwards it hands every agent
/// that appears to each job's fleet, and tells the fleets when one withdraws its
/// advertisement.
final class AgentDiscovery: Sendable {
    static let serviceType = "_softcopy._tcp"
    static let protocolVersion = "1"
    /// After Avahi's "all for now", resolutions still under way get this long.
    static let settle: Duration = .milliseconds(300)
    /// The client reports "connecting" for a moment even when the daemon is there: only
    /// this long without a connection means Avahi is not available.
    static let unavailableAfter: Duration = .seconds(1)

    private struct State {
        var found: [String: DiscoveredService] = [:]
        var ignored: Set<String> = []
        var allForNow = false
        var unavailableSince: MonotonicInstant?
        var lastFound: MonotonicInstant?
        /// The fleets of the jobs under way, by identity.
        var fleets: [ObjectIdentifier: AgentFleet] = [:]
    }

    private let state = Mutex(State())
    private let changed = ConditionLock()
    private let browser = Mutex<ServiceBrowser?>(nil)
    private let logger: Logger
    private let haveToken: Bool

    init(haveToken: Bool, logger: Logger) {
        self.logger = logger
        self.haveToken = haveToken
        do {
            let b = try ServiceBrowser(type: Self.serviceType, logger: logger) { [weak self] event in self?.handle(event) }
            browser.withLock { $0 = b }
        } catch {
            logger.warning("cannot browse for agents through Avahi: \(error)")
            state.withLock { $0.unavailableSince = .zero }
        }
    }

    func stop() {
        // Stopping the browser reports every service lost: that is not news for the fleets.
        state.withLock { $0.fleets = [:] }
        browser.withLock { b -> ServiceBrowser? in
            defer { b = nil }
            return b
        }?.stop()
    }

    /// Waits up to `wait` for agents: returns early once Avahi has reported what is on
    /// the network and something was found, or at once if Avahi is not available.
    func waitForAgents(within wait: Duration) -> [DiscoveredService] {
        let deadline = Clock.now() + wait
        return changed.withLock {
            while true {
                let s = state.withLock { $0 }
                let now = Clock.now()
                if now >= deadline { return Array(s.found.values) }
                if let since = s.unavailableSince {
                    if now - since >= Self.unavailableAfter {
                        logger.info("Avahi is not available (avahi-daemon not running, or no system D-Bus): not waiting for agents")
                        return Array(s.found.values)
                    }
                    changed.wait(until: min(deadline, since + Self.unavailableAfter))
                    continue
                }
                if s.allForNow, !s.found.isEmpty, let last = s.lastFound, now - last >= Self.settle {
                    return Array(s.found.values)
                }
                let next = s.allForNow && !s.found.isEmpty ? min(deadline, (s.lastFound ?? now) + Self.settle) : deadline
                changed.wait(until: next)
            }
        }
    }

    /// Adds every agent found so far to `fleet`, and every later one as it appears, until
    /// `stopFeeding`.
    func feed(_ fleet: AgentFleet) {
        let found = state.withLock { s -> [DiscoveredService] in
            s.fleets[ObjectIdentifier(fleet)] = fleet
            return Array(s.found.values)
        }
        for service in found.sorted(by: { $0.name < $1.name }) { fleet.add(url: service.url, serviceName: service.name) }
    }

    /// A job that ends takes its fleet out: agents found later are no news to it.
    func stopFeeding(_ fleet: AgentFleet) {
        state.withLock { $0.fleets[ObjectIdentifier(fleet)] = nil }
    }

    private func handle(_ event: ServiceBrowser.Event) {
        var fleetsToTell: [AgentFleet] = []
        var add: DiscoveredService?
        var withdrawn: String?
        changed.withLock {
            state.withLock { s in
                switch event {
                case .found(let service):
                    guard usable(service, ignored: &s.ignored) else { return }
                    let isNew = s.found[service.name] == nil
                    s.found[service.name] = service
                    s.lastFound = Clock.now()
                    if isNew || s.found[service.name]?.url != service.url { add = service }
                case .lost(let name):
                    s.found[name] = nil
                    withdrawn = name
                case .allForNow:
                    s.allForNow = true
                case .unavailable:
                    if s.unavailableSince == nil { s.unavailableSince = Clock.now() }
                case .available:
                    s.unavailableSince = nil
                }
                fleetsToTell = Array(s.fleets.values)
            }
            changed.broadcast()
        }
        if let add {
            for fleet in fleetsToTell { fleet.add(url: add.url, serviceName: add.name) }
        }
        if let withdrawn, !fleetsToTell.isEmpty {
            logger.info("agent \(withdrawn) withdrew its Avahi advertisement; checking it")
            for fleet in fleetsToTell { fleet.withdrawn(serviceName: withdrawn) }
        }
    }

    /// Agents of another protocol version are left alone (said once).
    private func usable(_ service: DiscoveredService, ignored: inout Set<String>) -> Bool {
        let api = service.txt["api"] ?? "?"
        guard api == Self.protocolVersion else {
            if ignored.insert(service.name).inserted {
                logger.warning("agent \(service.name) at \(service.url) speaks protocol \(api); this coordinator speaks \(Self.protocolVersion): ignored")
            }
            return false
        }
        if service.txt["token"] == "yes", !haveToken, ignored.insert(service.name + "#token").inserted {
            logger.warning("agent \(service.name) at \(service.url) requires a token; give this coordinator the same token_file")
        }
        return true
    }
}
