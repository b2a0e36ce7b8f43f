/// Reads a targets file's YAML tree. Every key is documented here; unknown keys are
/// errors (a typo must not silently fall back to a default), and every error names the
/// file, line and column.
///
/// ```yaml
/// targets:                      # required: a list of archives to copy
///   - source: /data/acq.zarr    # required: the archive being written
///     destination: /nas/acq.zarr  # required: where the copy goes
///     writer: auto              # auto | atomic | in-place  (how the writer puts files in place)
///     quiet_period: 2s          # in-place writers: wait this long after the last change
///     poll_interval: 5s         # poll instead of inotify (network filesystems)
///     deletions: at-end         # at-end | live | never
///     placement: balanced       # balanced | locality | shared  (how chunks spread over agents)
///     locality_dimensions: 1    # locality: chunks sharing their first N grid indices share a node
///     replicas: 1               # copies of every chunk, each on a different agent
///     replace: false            # the destination may hold another source's copy: replace it
///     symlinks: inside          # inside | follow | skip  (symbolic links in the source)
///     remove_source: never      # never | after-verify | live  (free the source once its copy is verified)
/// nprocs: 8                     # copy workers (softcopy's --nprocs)
/// sleep_time: 0                 # pause per worker after each file (softcopy's --sleep-time)
/// max_rate: 200MB               # cap on source reads, bytes per second (or "08:00,200M 20:00,off")
/// wire_compression: auto        # auto | never | always  (zstd for raw chunks over a slow link)
/// idle_timeout: 10m             # no change for this long suggests the end (a rescan confirms)
/// wait_for_source: false        # wait for a missing source to appear
/// writer / quiet_period / poll_interval / deletions  # defaults for every target
/// agents:                       # storage nodes that pull the work (none: copy locally)
///   - http://store1:7481
/// listen: 0.0.0.0:7480          # the coordinator's HTTP API, for agents
/// advertise_url: http://acq-pc:7480  # how agents reach it (default: found per agent)
/// token_file: /etc/softcopy/token    # shared token between coordinator and agents
/// lease_timeout: 30s            # work leased by a silent agent goes to another after this
/// tls_cert: /etc/softcopy/tls/cert.pem  # HTTPS for the API (with tls_key); tls_ca: CAs to check agents
/// retry_deadline: 10m           # a file failing this long is reported, not retried (0: no limit)
/// discovery: true               # find agents through Avahi (_softcopy._tcp)
/// discovery_wait: 3s            # look this long at start; none found: copy locally
/// free_space_reserve: 1GiB      # an agent below this much free space gets no more work
/// when_unsatisfiable: wait      # wait | stop  (too few agents for the policy, or no room)
/// placement / locality_dimensions / replicas / replace / symlinks / remove_source  # defaults for every target
/// checksums: [sha256, md5]      # checksum lists beside the manifest besides xxh128sums (sha256sum -c, md5sum -c)
/// state_dir: /var/lib/softcopy  # the job history (default $STATE_DIRECTORY, else ~/.local/state/softcopy)
/// watch:                        # folders whose archives are copied as they appear
///   - folder: /data/acquisitions
///     pattern: "*.zarr"         # an archive's folder name (fnmatch); nested folders are searched 4 deep
///     destination: /nas/lab/{name}   # {name}, {path} (below the folder), {date}, {host}
///     idle_timeout: 30m         # no change this long ends an archive's job (default 30m)
///     # ...and every key of a target
/// notify:                       # when each archive's copy ends (also per target)
///   webhook: https://hooks.example/softcopy   # POST of a JSON summary
///   command: /usr/local/bin/ingest.sh         # run with SOFTCOPY_* variables
///   on: both                    # done | failed | both
/// ```
extension TargetsFile {
    /// Keys allowed at the top level, with a one-line meaning (used in error messages).
    public static let topLevelKeys: [String] = [
        "targets", "nprocs", "sleep_time", "max_rate", "idle_timeout", "wait_for_source",
        "writer", "quiet_period", "rewrite_hold", "poll_interval", "deletions", "wire_compression",
        "agents", "listen", "advertise_url", "token_file", "lease_timeout",
        "retry_deadline", "tls_cert", "tls_key", "tls_ca", "discovery", "discovery_wait", "free_space_reserve", "when_unsatisfiable",
        "placement", "locality_dimensions", "replicas", "replace", "symlinks", "remove_source", "checksums", "notify",
        "watch", "state_dir",
    ]
    public static let targetKeys: [String] = [
        "source", "destination", "writer", "quiet_period", "poll_interval", "deletions",
        "placement", "locality_dimensions", "replicas", "replace", "symlinks", "remove_source", "notify",
    ]
    /// A watch entry's keys: where to look and where to copy, then every key of a target,
    /// and the idle timeout that ends each of its archives.
    public static let watchKeys: [String] = ["folder", "pattern", "destination", "idle_timeout"] + targetKeys.filter { $0 != "source" && $0 != "destination" }

    /// Parses a loaded document. Relative paths are taken relative to `baseDirectory`
    /// (the folder that holds the targets file), and `~/` expands to `home`.
    public static func parse(
        _ document: YAMLNode?, file: String, baseDirectory: String, home: String?
    ) throws(ConfigError) -> TargetsFile {
        let reader = Reader(file: file)
        guard let document else {
            throw reader.error(nil, "the file is empty; expected a top-level 'targets:' list")
        }
        guard case .mapping = document else {
            throw reader.error(document.mark, "expected a mapping with a 'targets:' key at the top level, found \(document.kindName)")
        }
        let top = try reader.members(of: document, allowed: topLevelKeys, context: "at the top level")

        var settings = CoordinatorSettings()
        settings.nprocs = try top["nprocs"].map { v throws(ConfigError) in try reader.integer(v, key: "nprocs", in: 1...1024) }
        settings.sleepTime = try top["sleep_time"].map { v throws(ConfigError) in try reader.duration(v, key: "sleep_time", allowZero: true) }
        settings.maxRate = try top["max_rate"].map { v throws(ConfigError) in try reader.rateSchedule(v, key: "max_rate") }
        settings.idleTimeout = try top["idle_timeout"].map { v throws(ConfigError) in try reader.duration(v, key: "idle_timeout", allowZero: false) }
        settings.waitForSource = try top["wait_for_source"].map { v throws(ConfigError) in try reader.bool(v, key: "wait_for_source") }
        settings.writer = try top["writer"].map { v throws(ConfigError) in try reader.choice(v, key: "writer", WriterMode.self) }
        settings.quietPeriod = try top["quiet_period"].map { v throws(ConfigError) in try reader.duration(v, key: "quiet_period", allowZero: true) }
        settings.rewriteHold = try top["rewrite_hold"].map { v throws(ConfigError) in try reader.duration(v, key: "rewrite_hold", allowZero: true) }
        settings.pollInterval = try top["poll_interval"].map { v throws(ConfigError) in try reader.duration(v, key: "poll_interval", allowZero: false) }
        settings.deletions = try top["deletions"].map { v throws(ConfigError) in try reader.choice(v, key: "deletions", DeletionPolicy.self) }
        if let node = top["agents"] {
            guard case .sequence(let items, _) = node else {
                throw reader.error(node.mark, "'agents' must be a list of URLs such as http://store1:7481, found \(node.kindName)")
            }
            settings.agents = try items.map { item throws(ConfigError) in try reader.agentURL(item) }
        }
        settings.listen = try top["listen"].map { v throws(ConfigError) in try reader.listenAddress(v) }
        settings.advertiseURL = try top["advertise_url"].map { v throws(ConfigError) in try reader.agentURL(v, key: "advertise_url") }
        settings.tokenFile = try top["token_file"].map { v throws(ConfigError) in
            PathNormalizer.absolute(try reader.path(v, key: "token_file"), base: baseDirectory, home: home)
        }
        settings.leaseTimeout = try top["lease_timeout"].map { v throws(ConfigError) in try reader.duration(v, key: "lease_timeout", allowZero: false) }
        for (key, keyPath) in [("tls_cert", \CoordinatorSettings.tlsCertificate), ("tls_key", \.tlsKey), ("tls_ca", \.tlsCA)] {
            settings[keyPath: keyPath] = try top[key].map { v throws(ConfigError) in
                PathNormalizer.absolute(try reader.path(v, key: key), base: baseDirectory, home: home)
            }
        }
        if (settings.tlsCertificate == nil) != (settings.tlsKey == nil), let node = top["tls_cert"] ?? top["tls_key"] {
            throw reader.error(node.mark, "'tls_cert' and 'tls_key' go together: give both, or neither")
        }
        settings.retryDeadline = try top["retry_deadline"].map { v throws(ConfigError) in try reader.duration(v, key: "retry_deadline", allowZero: true) }
        settings.discovery = try top["discovery"].map { v throws(ConfigError) in try reader.bool(v, key: "discovery") }
        settings.discoveryWait = try top["discovery_wait"].map { v throws(ConfigError) in try reader.duration(v, key: "discovery_wait", allowZero: true) }
        settings.freeSpaceReserve = try top["free_space_reserve"].map { v throws(ConfigError) in try reader.size(v, key: "free_space_reserve") }
        settings.whenUnsatisfiable = try top["when_unsatisfiable"].map { v throws(ConfigError) in try reader.choice(v, key: "when_unsatisfiable", UnsatisfiableAction.self) }
        settings.placement = try top["placement"].map { v throws(ConfigError) in try reader.choice(v, key: "placement", PlacementKind.self) }
        settings.replicas = try top["replicas"].map { v throws(ConfigError) in try reader.integer(v, key: "replicas", in: 1...16) }
        settings.localityDimensions = try top["locality_dimensions"].map { v throws(ConfigError) in try reader.integer(v, key: "locality_dimensions", in: 1...32) }
        settings.replace = try top["replace"].map { v throws(ConfigError) in try reader.bool(v, key: "replace") }
        settings.symlinks = try top["symlinks"].map { v throws(ConfigError) in try reader.choice(v, key: "symlinks", SymlinkPolicy.self) }
        settings.wireCompression = try top["wire_compression"].map { v throws(ConfigError) in
            try reader.choice(v, key: "wire_compression", WireCompression.self)
        }
        if let node = top["checksums"] {
            let items: [YAMLNode]
            switch node {
            case .sequence(let list, _): items = list
            default: items = [node]
            }
            settings.checksums = Set(try items.map { item throws(ConfigError) in try reader.choice(item, key: "checksums", ChecksumAlgorithm.self) })
        }
        settings.notify = try top["notify"].map { v throws(ConfigError) in try reader.notify(v) }
        settings.stateDirectory = try top["state_dir"].map { v throws(ConfigError) in
            PathNormalizer.absolute(try reader.path(v, key: "state_dir"), base: baseDirectory, home: home)
        }
        settings.removeSource = try top["remove_source"].map { v throws(ConfigError) in try reader.choice(v, key: "remove_source", SourceRemovalMode.self) }

        let targetsNode = top["targets"]
        guard targetsNode != nil || top["watch"] != nil else {
            throw reader.error(document.mark, "missing required key 'targets' (a list of source/destination pairs) or 'watch' (folders whose new archives are copied)")
        }
        var entries: [YAMLNode] = []
        if let targetsNode {
            guard case .sequence(let list, let listMark) = targetsNode else {
                throw reader.error(targetsNode.mark, "'targets' must be a list of source/destination pairs, found \(targetsNode.kindName)")
            }
            guard !list.isEmpty || top["watch"] != nil else {
                throw reader.error(listMark, "'targets' is empty; list at least one source/destination pair")
            }
            entries = list
        }

        var targets: [TargetSpec] = []
        var destinations: [String: SourceMark] = [:]
        for (n, entry) in entries.enumerated() {
            let context = "in target \(n + 1)"
            guard case .mapping = entry else {
                throw reader.error(entry.mark, "target \(n + 1) must be a mapping with 'source' and 'destination', found \(entry.kindName)")
            }
            let keys = try reader.members(of: entry, allowed: targetKeys, context: context)
            guard let sourceNode = keys["source"] else {
                throw reader.error(entry.mark, "target \(n + 1) has no 'source'")
            }
            guard let destinationNode = keys["destination"] else {
                throw reader.error(entry.mark, "target \(n + 1) has no 'destination'")
            }
            let source = PathNormalizer.absolute(
                try reader.path(sourceNode, key: "source"), base: baseDirectory, home: home)
            let destination = PathNormalizer.absolute(
                try reader.path(destinationNode, key: "destination"), base: baseDirectory, home: home)

            if source == destination {
                throw reader.error(destinationNode.mark, "destination is the same folder as the source (\(source))")
            }
            if PathNormalizer.isSameOrInside(destination, source) {
                throw reader.error(destinationNode.mark, "destination \(destination) lies inside the source \(source); the copy would copy itself")
            }
            if PathNormalizer.isSameOrInside(source, destination) {
                throw reader.error(destinationNode.mark, "source \(source) lies inside the destination \(destination)")
            }
            if let earlier = destinations[destination] {
                throw reader.error(destinationNode.mark, "destination \(destination) is already used by the target at line \(earlier.line)")
            }
            destinations[destination] = destinationNode.mark

            var spec = TargetSpec(source: source, destination: destination,
                                  sourceMark: sourceNode.mark, destinationMark: destinationNode.mark)
            spec.agentDestination = try reader.path(destinationNode, key: "destination").trimmingWhitespace()
            try reader.targetOptions(keys, top: top, settings: settings, into: &spec, context: context)
            targets.append(spec)
        }
        let watches = try top["watch"].map { node throws(ConfigError) in
            try reader.watchEntries(node, top: top, settings: settings, baseDirectory: baseDirectory, home: home)
        } ?? []
        return TargetsFile(targets: targets, settings: settings, watches: watches)
    }

    /// Typed access to YAML nodes, each failure a ConfigError at the node's position.
    struct Reader {
        let file: String

        func error(_ mark: SourceMark?, _ message: String) -> ConfigError {
            ConfigError(file: file, mark: mark, message: message)
        }

        /// The mapping's members by key; rejects unknown and repeated keys.
        func members(of node: YAMLNode, allowed: [String], context: String) throws(ConfigError) -> [String: YAMLNode] {
            guard case .mapping(let pairs, _) = node else { return [:] }
            var result: [String: YAMLNode] = [:]
            var firstSeen: [String: SourceMark] = [:]
            for (keyNode, value) in pairs {
                guard case .scalar(let key, _, let mark) = keyNode else {
                    throw error(keyNode.mark, "keys must be plain names, found \(keyNode.kindName) \(context)")
                }
                guard allowed.contains(key) else {
                    var message = "unknown key '\(key)' \(context)"
                    if let suggestion = Self.closest(to: key, in: allowed) {
                        message += " (did you mean '\(suggestion)'?)"
                    }
                    message += "; allowed keys: \(allowed.joined(separator: ", "))"
                    throw error(mark, message)
                }
                if let first = firstSeen[key] {
                    throw error(mark, "key '\(key)' appears twice \(context) (first at line \(first.line))")
                }
                firstSeen[key] = mark
                result[key] = value
            }
            return result
        }

        func scalar(_ node: YAMLNode, key: String) throws(ConfigError) -> String {
            guard case .scalar(let s, _, _) = node, !node.isNull else {
                throw error(node.mark, "'\(key)' needs a value, found \(node.kindName)")
            }
            return s
        }

        func path(_ node: YAMLNode, key: String) throws(ConfigError) -> String {
            let s = try scalar(node, key: key)
            guard !s.trimmingWhitespace().isEmpty else { throw error(node.mark, "'\(key)' is an empty path") }
            guard !s.utf8.contains(0) else { throw error(node.mark, "'\(key)' contains a NUL byte") }
            return s
        }

        /// An agent's base URL: http(s)://host:port, nothing after the port.
        func agentURL(_ node: YAMLNode, key: String = "agents") throws(ConfigError) -> String {
            let s = try scalar(node, key: key).trimmingWhitespace()
            guard let url = AgentAddress.normalizedURL(s) else {
                throw error(node.mark, "'\(key)' entry must be a URL such as http://store1:7481, found '\(s)'")
            }
            return url
        }

        func listenAddress(_ node: YAMLNode) throws(ConfigError) -> String {
            let s = try scalar(node, key: "listen").trimmingWhitespace()
            guard AgentAddress.hostAndPort(s) != nil else {
                throw error(node.mark, "'listen' must be host:port such as 0.0.0.0:7480, found '\(s)'")
            }
            return s
        }

        func integer(_ node: YAMLNode, key: String, in range: ClosedRange<Int>) throws(ConfigError) -> Int {
            let s = try scalar(node, key: key)
            guard let n = Int(s), range.contains(n) else {
                throw error(node.mark, "'\(key)' must be a whole number from \(range.lowerBound) to \(range.upperBound), found '\(s)'")
            }
            return n
        }

        func duration(_ node: YAMLNode, key: String, allowZero: Bool) throws(ConfigError) -> Duration {
            let s = try scalar(node, key: key)
            guard let d = Quantity.duration(s), allowZero || d > .zero else {
                throw error(node.mark, "'\(key)' must be a duration such as 2, 0.5, 500ms, 5m or 1h\(allowZero ? "" : " (above zero)"), found '\(s)'")
            }
            return d
        }

        func rateSchedule(_ node: YAMLNode, key: String) throws(ConfigError) -> RateSchedule {
            let s = try scalar(node, key: key)
            do {
                return try RateSchedule(parsing: s)
            } catch {
                throw self.error(node.mark, "'\(key)': \(error.text)")
            }
        }

        func size(_ node: YAMLNode, key: String) throws(ConfigError) -> UInt64 {
            let s = try scalar(node, key: key)
            guard let n = Quantity.byteCount(s) else {
                throw error(node.mark, "'\(key)' must be a size such as 0, 500MB or 10GiB, found '\(s)'")
            }
            return n
        }

        func notify(_ node: YAMLNode) throws(ConfigError) -> NotificationSettings {
            let keys = try members(of: node, allowed: NotificationSettings.keys, context: "in 'notify'")
            var settings = NotificationSettings()
            if let v = keys["webhook"] {
                let url = try scalar(v, key: "webhook").trimmingWhitespace()
                guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                    throw error(v.mark, "'webhook' must be an http:// or https:// URL, found '\(url)'")
                }
                settings.webhook = url
            }
            if let v = keys["command"] {
                let command = try scalar(v, key: "command")
                guard !command.trimmingWhitespace().isEmpty else { throw error(v.mark, "'command' is empty") }
                settings.command = command
            }
            if let v = keys["email"] {
                let mail = try members(of: v, allowed: NotificationSettings.Email.keys, context: "in 'notify: email'")
                guard let smtp = mail["smtp"], let from = mail["from"], let to = mail["to"] else {
                    throw error(v.mark, "'email' needs 'smtp' (smtp://host:port), 'from' and 'to'")
                }
                let server = try scalar(smtp, key: "smtp").trimmingWhitespace()
                guard server.hasPrefix("smtp://") || server.hasPrefix("smtps://") else {
                    throw error(smtp.mark, "'smtp' must be an smtp:// or smtps:// URL, found '\(server)'")
                }
                let recipients: [YAMLNode]
                if case .sequence(let list, _) = to { recipients = list } else { recipients = [to] }
                let addresses = try recipients.map { node throws(ConfigError) in
                    let address = try scalar(node, key: "to").trimmingWhitespace()
                    guard address.contains("@"), !address.contains(where: { $0 == "<" || $0 == ">" || $0 == "\r" || $0 == "\n" }) else {
                        throw error(node.mark, "'to' must be mail addresses such as lab@example.org, found '\(address)'")
                    }
                    return address
                }
                let sender = try scalar(from, key: "from").trimmingWhitespace()
                guard sender.contains("@"), !sender.contains(where: { $0 == "<" || $0 == ">" || $0 == "\r" || $0 == "\n" }) else {
                    throw error(from.mark, "'from' must be a mail address such as softcopy@acq-pc.example.org, found '\(sender)'")
                }
                settings.email = .init(server: server, from: sender, to: addresses)
            }
            settings.on = try keys["on"].map { v throws(ConfigError) in try choice(v, key: "on", NotificationSettings.When.self) } ?? .both
            guard settings.webhook != nil || settings.command != nil || settings.email != nil else {
                throw error(node.mark, "'notify' needs a 'webhook', a 'command' or an 'email'")
            }
            return settings
        }

        func bool(_ node: YAMLNode, key: String) throws(ConfigError) -> Bool {
            let s = try scalar(node, key: key)
            switch s.lowercased() {
            case "true", "yes", "on": return true
            case "false", "no", "off": return false
            default: throw error(node.mark, "'\(key)' must be true or false, found '\(s)'")
            }
        }

        func choice<T: RawRepresentable & CaseIterable>(_ node: YAMLNode, key: String, _ type: T.Type) throws(ConfigError) -> T
        where T.RawValue == String {
            let s = try scalar(node, key: key)
            guard let value = T(rawValue: s) else {
                let names = T.allCases.map(\.rawValue).joined(separator: ", ")
                throw error(node.mark, "'\(key)' must be one of \(names), found '\(s)'")
            }
            return value
        }

        /// The allowed key nearest to a typo, if it is near enough to be a likely typo.
        static func closest(to word: String, in candidates: [String]) -> String? {
            let scored = candidates.map { ($0, editDistance(word.lowercased(), $0)) }
            guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= max(2, word.count / 3) else { return nil }
            return best.0
        }

        static func editDistance(_ a: String, _ b: String) -> Int {
            let a = Array(a), b = Array(b)
            if a.isEmpty { return b.count }
            var previous = Array(0...b.count)
            for i in 1...a.count {
                var current = [i] + Array(repeating: 0, count: b.count)
                for j in 1...max(b.count, 1) where j <= b.count {
                    current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
                }
                previous = current
            }
            return previous[b.count]
        }
    }
}


extension TargetsFile.Reader {
    /// The keys a target and a watch entry share (everything but where from and to).
    func targetOptions(_ keys: [String: YAMLNode], top: [String: YAMLNode], settings: CoordinatorSettings,
                       into spec: inout TargetSpec, context: String) throws(ConfigError) {
        let reader = self
        spec.writer = try keys["writer"].map { v throws(ConfigError) in try reader.choice(v, key: "writer", WriterMode.self) }
        spec.quietPeriod = try keys["quiet_period"].map { v throws(ConfigError) in try reader.duration(v, key: "quiet_period", allowZero: true) }
        spec.pollInterval = try keys["poll_interval"].map { v throws(ConfigError) in try reader.duration(v, key: "poll_interval", allowZero: false) }
        spec.deletions = try keys["deletions"].map { v throws(ConfigError) in try reader.choice(v, key: "deletions", DeletionPolicy.self) }
        spec.placement = try keys["placement"].map { v throws(ConfigError) in try reader.choice(v, key: "placement", PlacementKind.self) }
        spec.replicas = try keys["replicas"].map { v throws(ConfigError) in try reader.integer(v, key: "replicas", in: 1...16) }
        spec.localityDimensions = try keys["locality_dimensions"].map { v throws(ConfigError) in try reader.integer(v, key: "locality_dimensions", in: 1...32) }
        spec.replace = try keys["replace"].map { v throws(ConfigError) in try reader.bool(v, key: "replace") }
        spec.symlinks = try keys["symlinks"].map { v throws(ConfigError) in try reader.choice(v, key: "symlinks", SymlinkPolicy.self) }
        spec.notify = try keys["notify"].map { v throws(ConfigError) in try reader.notify(v) }
        spec.removeSource = try keys["remove_source"].map { v throws(ConfigError) in try reader.choice(v, key: "remove_source", SourceRemovalMode.self) }
        if (spec.placement ?? settings.placement) == .shared, let r = keys["replicas"] ?? top["replicas"], (spec.replicas ?? settings.replicas ?? 1) > 1 {
            throw reader.error(r.mark, "replicas need separate filesystems, but placement 'shared' has one filesystem for every agent \(context)")
        }
    }
}

extension TargetsFile.Reader {
    /// `watch:`: a list of folders, each with the pattern of its archives' names and the
    /// template of their destinations.
    func watchEntries(_ node: YAMLNode, top: [String: YAMLNode], settings: CoordinatorSettings,
                      baseDirectory: String, home: String?) throws(ConfigError) -> [WatchSpec] {
        guard case .sequence(let items, let listMark) = node, !items.isEmpty else {
            throw error(node.mark, "'watch' must be a list of folders (each with 'folder' and 'destination'), found \(node.kindName)")
        }
        _ = listMark
        var result: [WatchSpec] = []
        for (n, item) in items.enumerated() {
            let context = "in watch entry \(n + 1)"
            guard case .mapping = item else {
                throw error(item.mark, "watch entry \(n + 1) must be a mapping with 'folder' and 'destination', found \(item.kindName)")
            }
            let keys = try members(of: item, allowed: TargetsFile.watchKeys, context: context)
            guard let folderNode = keys["folder"] else { throw error(item.mark, "watch entry \(n + 1) has no 'folder'") }
            guard let destinationNode = keys["destination"] else {
                throw error(item.mark, "watch entry \(n + 1) has no 'destination' (such as /nas/lab/{name})")
            }
            let folder = PathNormalizer.absolute(try path(folderNode, key: "folder"), base: baseDirectory, home: home)
            let written = try path(destinationNode, key: "destination").trimmingWhitespace()
            let template: DestinationTemplate
            switch DestinationTemplate.parse(PathNormalizer.absolute(written, base: baseDirectory, home: home)) {
            case .success(let t): template = t
            case .failure(let message): throw error(destinationNode.mark, message.text)
            }
            guard case .success(let agentTemplate) = DestinationTemplate.parse(written) else {
                throw error(destinationNode.mark, "cannot read the destination '\(written)'")
            }
            guard template.namesEachArchive else {
                throw error(destinationNode.mark, "the destination '\(written)' is the same for every archive: put {name} (or {path}) in it, such as /nas/lab/{name}")
            }
            let prefix = template.fixedPrefix.isEmpty ? "/" : template.fixedPrefix
            if PathNormalizer.isSameOrInside(prefix, folder) {
                throw error(destinationNode.mark, "the destination \(template) lies inside the watched folder \(folder): each copy would be watched and copied again")
            }
            if prefix != "/", PathNormalizer.isSameOrInside(folder, prefix) {
                throw error(destinationNode.mark, "the watched folder \(folder) lies inside the destinations' folder \(prefix)")
            }
            var pattern = WatchSpec.defaultPattern
            if let p = keys["pattern"] {
                pattern = try scalar(p, key: "pattern").trimmingWhitespace()
                guard !pattern.isEmpty, !pattern.contains("/") else {
                    throw error(p.mark, "'pattern' matches one folder name (such as *.zarr), without '/', found '\(pattern)'")
                }
            }
            var options = TargetSpec(source: "", destination: "")
            try targetOptions(keys, top: top, settings: settings, into: &options, context: context)
            var watch = WatchSpec(folder: folder, pattern: pattern, destination: template, agentDestination: agentTemplate,
                                  options: options, mark: folderNode.mark)
            watch.idleTimeout = try keys["idle_timeout"].map { v throws(ConfigError) in try duration(v, key: "idle_timeout", allowZero: false) }
            if let earlier = result.first(where: { PathNormalizer.isSameOrInside(folder, $0.folder) || PathNormalizer.isSameOrInside($0.folder, folder) }) {
                throw error(folderNode.mark, "the watched folder \(folder) overlaps \(earlier.folder) (line \(earlier.mark?.line ?? 0)): an archive would have two jobs")
            }
            result.append(watch)
        }
        return result
    }
}
