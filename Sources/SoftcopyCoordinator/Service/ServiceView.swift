import SoftcopyCore
import SoftcopyHTTP
import SoftcopyIO
import Synchronization

/// What the service's HTTP server reads: every job (running ones first, then the newest
/// ended), the agents they reach, the watched folders and the history. Built on NIO's
/// thread pool from what each job publishes (`JobSurface`).
struct ServiceView: Sendable {
    let service: CoordinatorService

    /// `GET /v1/health`: open, for agents (is the job they serve still here?) and probes.
    func health(tokenRequired: Bool) -> JSONValue {
        let running = service.jobs.filter { $0.status == nil }.map(\.id)
        return .object([
            ("softcopy", .string(SoftcopyVersion.string)), ("api", .integer(1)), ("role", .string("coordinator")),
            // The newest running job (agents of one coordinator before several jobs read this).
            ("job", running.last.map { .string($0) } ?? .null),
            ("jobs", .array(running.map { .string($0) })),
            ("token_required", .bool(tokenRequired)),
        ])
    }

    /// `GET /v1/status`.
    func status() -> JSONValue {
        let jobs = ordered(service.jobs)
        let documents = jobs.map { document(of: $0, events: false) }
        // Every agent any running job reaches, once (by URL).
        var agents: [String: JSONValue] = [:]
        var order: [String] = []
        for doc in documents where doc["state"]?.stringValue == "running" {
            for agent in doc["agents"]?.arrayValue ?? [] {
                guard let url = agent["url"]?.stringValue, agents[url] == nil else { continue }
                agents[url] = agent
                order.append(url)
            }
        }
        let watches = service.watchedFolders.withLock { $0 }
        return .object([
            ("softcopy", .string(SoftcopyVersion.string)), ("host", .string(Clock.hostName())),
            ("started", .string(service.startedWall)), ("now", .string(Clock.wallTimestamp())),
            ("max_rate", maxRate()),
            ("jobs", .array(documents)),
            ("agents", .array(order.compactMap { agents[$0] })),
            ("watch", .array(watches.map { w in
                // As written: under each agent's root; `destination` is where a local copy goes.
                .object([("folder", .string(w.folder)), ("pattern", .string(w.pattern)), ("destination", .string(w.destination.text)),
                         ("destination_as_written", .string(w.agentDestination.text))])
            })),
            ("history_file", service.history.map { .string($0.path) } ?? .null),
            ("history", .array((service.history?.newest ?? []).prefix(100).map(\.json))),
        ])
    }

    /// `GET /v1/max_rate` (and the answer to a `PUT`): the limit as given, normalized, and
    /// the rate it sets now (null: none).
    func maxRate() -> JSONValue {
        .object([("max_rate", .string(service.rateLimiter.schedule.description)),
                 ("now", service.rateLimiter.currentRate.map { .integer($0) } ?? .null)])
    }

    /// `GET /v1/jobs/{job}`: the job's document with its event log.
    func detail(job id: String) -> JSONValue? {
        guard let job = service.jobs.first(where: { $0.id == id }) else { return nil }
        return document(of: job, events: true)
    }

    func api(job id: String) -> CoordinatorAPI? {
        service.jobs.first(where: { $0.id == id })?.controls.surface.api.withLock { $0 }
    }

    /// `GET /metrics`: every job's families (an ended job's as they were at its end), each
    /// sample labelled with its job, and the service's own.
    func metrics() -> [MetricFamily] {
        let jobs = service.jobs
        var families: [MetricFamily] = []
        var index: [String: Int] = [:]
        var jobState = MetricFamily("softcopy_job_state", .gauge, help: "Each job's state: running, or how it ended (1 for the one it is in).")
        for job in jobs {
            let state = job.status.map(CoordinatorRun.statusName) ?? "running"
            jobState.add(1, [("job", job.id), ("state", state)])
            for var family in job.controls.surface.metricFamilies {
                family.samples = family.samples.map { ([("job", job.id)] + $0.labels, $0.value) }
                if let i = index[family.name] {
                    families[i].samples += family.samples
                } else {
                    index[family.name] = families.count
                    families.append(family)
                }
            }
        }
        var info = MetricFamily("softcopy_coordinator_info", .gauge, help: "The coordinator's version (always 1).")
        info.add(1, [("version", SoftcopyVersion.string)])
        var states = MetricFamily("softcopy_jobs", .gauge, help: "Jobs in this coordinator's memory by state (running, or how each ended).")
        var counts: [String: Int] = ["running": 0]
        for job in jobs { counts[job.status.map(CoordinatorRun.statusName) ?? "running", default: 0] += 1 }
        for (state, n) in counts.sorted(by: { $0.key < $1.key }) { states.add(n, [("state", state)]) }
        // The per-job info family is the service's now: one sample, with the version.
        return [info, states, jobState] + families.filter { $0.name != "softcopy_coordinator_info" }
    }

    /// Running jobs first (oldest first), then ended ones (newest first).
    private func ordered(_ jobs: [Job]) -> [Job] {
        jobs.filter { $0.status == nil } + jobs.filter { $0.status != nil }.reversed()
    }

    /// One job as the dashboard shows it: what it copies, its state, the progress line's
    /// figures, each archive's counts, its agents and last problems.
    func document(of job: Job, events: Bool) -> JSONValue {
        let surface = job.controls.surface
        let live = surface.document
        let figures = surface.figures.withLock { $0 }
        var members: [(String, JSONValue)] = [
            ("id", .string(job.id)),
            ("kind", .string(job.watchFolder == nil ? "targets" : "watch")),
            ("watch_folder", job.watchFolder.map { .string($0) } ?? .null),
            ("targets_file", job.configuration.targetsFile.map { .string($0) } ?? .null),
            ("state", .string(job.status.map(CoordinatorRun.statusName) ?? "running")),
            ("exit_code", job.status.map { .integer(Int($0.rawValue)) } ?? .null),
            ("started", .string(job.started)), ("finished", job.ended.map { .string($0) } ?? .null),
            ("stage", figures.map { .string($0.stage) } ?? .string(job.status == nil ? "starting" : "ended")),
            ("rate_bytes_per_second", .number(String(Int((figures?.bytesPerSecond ?? 0).rounded())))),
            ("elapsed_seconds", .number(String(Int((figures?.elapsedSeconds ?? 0).rounded())))),
            ("eta_seconds", figures?.etaSeconds.map { .number(String(Int($0.rounded()))) } ?? .null),
            ("retries", .integer(figures?.retries ?? 0)),
            ("targets", live?["targets"] ?? .array(job.configuration.targets.map { spec in
                .object([("source", .string(spec.source)), ("destination", .string(spec.agentDestination))])
            })),
            ("agents", live?["agents"] ?? .array([])),
            ("problems", .array(job.controls.events.problems(limit: 10))),
        ]
        if events { members.append(("log", job.controls.events.json)) }
        return .object(members)
    }
}
