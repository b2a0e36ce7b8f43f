public import SoftcopyCore

/// Every endpoint of softcopy's HTTP API under `/v1` (docs/http-api.md), in one place: the
/// clients build their URLs from it and both servers dispatch on it, so a path is spelled
/// once. Identifiers stay as the request gave them; each handler checks its own and says
/// what is wrong with it.
public enum Route: Sendable, Equatable {
    /// `GET /v1/health`, on both servers, without the token.
    case health
    /// `GET /metrics` (outside /v1, where Prometheus looks): the Prometheus text format,
    /// on both servers, with the token rule of the rest of the API.
    case metrics
    /// `GET /v1/status`: the coordinator's run, for people and scripts.
    case status
    /// `GET /v1/max_rate`: the coordinator's read limit (`max_rate`) and the rate now.
    case maxRate
    /// `PUT /v1/max_rate`: a new limit, a rate or a timetable as the body's text.
    case setMaxRate
    /// `GET /v1/jobs/{job}`: one job of the coordinator, with its event log.
    case job(job: String)
    /// `POST /v1/jobs/{job}/lease`: an agent long-polls for a batch.
    case lease(job: String)
    /// `POST /v1/jobs/{job}/ack`: an agent reports a batch's outcomes.
    case ack(job: String)
    /// `POST /v1/jobs/{job}/bundle`: several small files in one answer.
    case bundle(job: String)
    /// `GET /v1/jobs/{job}/targets/{lane}/files/{path}?lease=N`: one chunk's bytes.
    case chunk(job: String, lane: String, path: String)
    /// `GET /v1/jobs/{job}/view/{lane}/{path}`: what the coordinator's record says about a
    /// key (or folder) of the read view while the job runs (`ReadViewAnswer`).
    case view(job: String, lane: String, path: String)
    /// `POST /v1/jobs`: a coordinator attaches its job to an agent.
    case attach
    /// `DELETE /v1/jobs/{job}`: the job is over at this agent.
    case detach(job: String)
    /// `PUT /v1/jobs/{job}/targets/{lane}/manifest`: the manifest, stored with the copy.
    case manifest(job: String, lane: String)
    /// `PUT /v1/jobs/{job}/targets/{lane}/checksums`: the files this node holds, in the
    /// format `xxh128sum -c` reads, stored beside the manifest; `.../checksums/sha256` and
    /// `.../checksums/md5` the same for `sha256sum -c` and `md5sum -c`.
    case checksums(job: String, lane: String, algorithm: ChecksumAlgorithm = .xxh128)
    /// `POST /v1/remove`: superseded copies to remove.
    case remove
    /// `GET /v1/list?destination=…` (or `/v1/list/{path}`): an agent's listing.
    case list(path: String = "")
    /// `GET` or `HEAD /v1/files/{path}`: a file under the agent's root.
    case file(path: String)

    public var method: String {
        switch self {
        case .health, .metrics, .status, .maxRate, .job, .chunk, .view, .list, .file: "GET"
        case .lease, .ack, .bundle, .attach, .remove: "POST"
        case .detach: "DELETE"
        case .manifest, .checksums, .setMaxRate: "PUT"
        }
    }

    /// The path, each component percent-escaped.
    public var path: String {
        let jobs = "/v1/jobs/"
        switch self {
        case .health: return "/v1/health"
        case .metrics: return "/metrics"
        case .status: return "/v1/status"
        case .maxRate, .setMaxRate: return "/v1/max_rate"
        case .job(let job): return jobs + URLCoding.encodePath(job)
        case .lease(let job): return jobs + URLCoding.encodePath(job) + "/lease"
        case .ack(let job): return jobs + URLCoding.encodePath(job) + "/ack"
        case .bundle(let job): return jobs + URLCoding.encodePath(job) + "/bundle"
        case .chunk(let job, let lane, let path):
            return jobs + URLCoding.encodePath(job) + "/targets/" + URLCoding.encodePath(lane) + "/files/" + URLCoding.encodePath(path)
        case .view(let job, let lane, let path):
            return jobs + URLCoding.encodePath(job) + "/view/" + URLCoding.encodePath(lane) + "/" + URLCoding.encodePath(path)
        case .attach: return "/v1/jobs"
        case .detach(let job): return jobs + URLCoding.encodePath(job)
        case .manifest(let job, let lane): return jobs + URLCoding.encodePath(job) + "/targets/" + URLCoding.encodePath(lane) + "/manifest"
        case .checksums(let job, let lane, let algorithm):
            return jobs + URLCoding.encodePath(job) + "/targets/" + URLCoding.encodePath(lane) + "/checksums" + (algorithm == .xxh128 ? "" : "/" + algorithm.rawValue)
        case .remove: return "/v1/remove"
        case .list(let path): return path.isEmpty ? "/v1/list" : "/v1/list/" + URLCoding.encodePath(path)
        case .file(let path): return "/v1/files/" + URLCoding.encodePath(path)
        }
    }

    /// The URL of this route on the server at `base` (`http://host:port`), with `query`
    /// (names and values escaped).
    public func url(_ base: String, query: [(name: String, value: String)] = []) -> String {
        let parameters = query.map { URLCoding.encodePath($0.name) + "=" + URLCoding.encodePath($0.value) }
        return base + path + (parameters.isEmpty ? "" : "?" + parameters.joined(separator: "&"))
    }

    /// The route a request names (its method, and its path split and unescaped), or nil.
    public init?(method: String, components c: [String]) {
        if method == "GET", c == ["metrics"] {
            self = .metrics
            return
        }
        guard c.count >= 2, c[0] == "v1" else { return nil }
        switch (method, c[1], c.count) {
        case ("GET", "health", 2): self = .health
        case ("GET", "status", 2): self = .status
        case ("GET", "max_rate", 2): self = .maxRate
        case ("PUT", "max_rate", 2): self = .setMaxRate
        case ("POST", "jobs", 2): self = .attach
        case ("DELETE", "jobs", 3): self = .detach(job: c[2])
        case ("GET", "jobs", 3): self = .job(job: c[2])
        case ("POST", "jobs", 4) where c[3] == "lease": self = .lease(job: c[2])
        case ("POST", "jobs", 4) where c[3] == "ack": self = .ack(job: c[2])
        case ("POST", "jobs", 4) where c[3] == "bundle": self = .bundle(job: c[2])
        case ("GET", "jobs", 7...) where c[3] == "targets" && c[5] == "files":
            self = .chunk(job: c[2], lane: c[4], path: c[6...].joined(separator: "/"))
        case ("GET", "jobs", 5...) where c[3] == "view":
            self = .view(job: c[2], lane: c[4], path: c[5...].joined(separator: "/"))
        case ("PUT", "jobs", 6) where c[3] == "targets" && c[5] == "manifest": self = .manifest(job: c[2], lane: c[4])
        case ("PUT", "jobs", 6) where c[3] == "targets" && c[5] == "checksums": self = .checksums(job: c[2], lane: c[4])
        case ("PUT", "jobs", 7) where c[3] == "targets" && c[5] == "checksums":
            guard let algorithm = ChecksumAlgorithm(rawValue: c[6]), algorithm != .xxh128 else { return nil }
            self = .checksums(job: c[2], lane: c[4], algorithm: algorithm)
        case ("POST", "remove", 2): self = .remove
        case ("GET", "list", _): self = .list(path: c[2...].joined(separator: "/"))
        case ("GET", "files", 3...), ("HEAD", "files", 3...): self = .file(path: c[2...].joined(separator: "/"))
        default: return nil
        }
    }

    /// The job a route belongs to, if it names one.
    public var job: String? {
        switch self {
        case .lease(let job), .ack(let job), .bundle(let job), .chunk(let job, _, _), .view(let job, _, _), .detach(let job), .manifest(let job, _), .checksums(let job, _, _),
             .job(let job): job
        case .health, .metrics, .status, .maxRate, .setMaxRate, .attach, .remove, .list, .file: nil
        }
    }
}
