import Logging
import SoftcopyCore
import SoftcopyHTTP
import SoftcopyIO

/// `notify:`: one message per archive when its copy ends, with the summary: a webhook
/// POST of JSON, and a command run with `SOFTCOPY_*` variables. A message that cannot be
/// sent is tried three times (2 s, then 4 s apart) and logged; it never changes the copy's
/// outcome. Every wait is bounded: 10 s per POST, 60 s per command run.
extension CoordinatorRun {
    static let notifyAttempts = 3
    static let webhookTimeout: Duration = .seconds(10)
    static let commandTimeout: Duration = .seconds(60)

    /// The summary of one archive's end, as the webhook receives it.
    func endSummary(_ runtime: TargetRuntime, status: ExitStatus, verdict: ArchiveVerdict?, statistics: TrackerStatistics?,
                    manifest: [String], reason: String?) -> JSONValue {
        summary(runtime.spec, destination: runtime.destination == nil ? runtime.spec.agentDestination : runtime.spec.destination,
                started: runtime.startedWall, status: status, verdict: verdict, statistics: statistics, manifest: manifest,
                reason: reason ?? runtime.endReason?.description, removal: runtime.removal)
    }

    /// The summary of an archive's end, also of one refused before its copy began.
    func summary(_ spec: TargetSpec, destination: String, started: String, status: ExitStatus, verdict: ArchiveVerdict?,
                 statistics: TrackerStatistics?, manifest: [String], reason: String?, removal: SourceRemovalReport?) -> JSONValue {
        let succeeded = status == .verified || status == .verifiedWithLeftovers
        let problems = verdict?.problems ?? []
        return .object([
            ("event", .string(succeeded ? "done" : "failed")),
            ("status", .string(Self.statusName(status))),
            ("exit_code", .integer(Int(status.rawValue))),
            ("job", .string(job)),
            ("host", .string(Clock.hostName())),
            ("watch_folder", controls.watchFolder.map { .string($0) } ?? .null),
            ("source", .string(spec.source)),
            ("destination", .string(destination)),
            ("started", .string(started)),
            ("finished", .string(Clock.wallTimestamp())),
            ("reason", reason.map { .string($0) } ?? .null),
            ("files", .integer(verdict?.verified.count ?? 0)),
            ("bytes", .integer(verdict?.verifiedBytes ?? 0)),
            ("copied_files", .integer(statistics?.copiedFiles ?? 0)),
            ("copied_bytes", .integer(statistics?.copiedBytes ?? 0)),
            ("problems", .integer(problems.count)),
            ("first_problems", .array(problems.prefix(10).map { .string("\($0.path): \($0.kind)") })),
            ("manifest", .array(manifest.map { .string($0) })),
            ("source_removal", removal?.json() ?? .null),
        ])
    }

    static func statusName(_ status: ExitStatus) -> String {
        switch status {
        case .verified: "verified"
        case .verifiedWithLeftovers: "verified-with-leftovers"
        case .incomplete: "incomplete"
        case .usage: "refused"
        case .interrupted: "interrupted"
        }
    }

    /// Tells whom `notify:` names, if this end is one it asks for.
    func notify(_ spec: TargetSpec, _ summary: JSONValue) {
        guard let settings = configuration.notify(for: spec) else { return }
        let succeeded = summary["event"]?.stringValue == "done"
        guard settings.tells(succeeded: succeeded) else { return }
        if let url = settings.webhook { sendWebhook(url, summary, about: spec) }
        if let command = settings.command { runCommand(command, summary, about: spec) }
        if let email = settings.email { sendEmail(email, summary, about: spec) }
    }

    /// The mail: the verdict in the subject, the summary's figures in the body, and the
    /// JSON summary at the end for scripts that read mail.
    static func mailMessage(_ email: NotificationSettings.Email, _ summary: JSONValue) -> [UInt8] {
        let status = summary["status"]?.stringValue ?? "?"
        let source = summary["source"]?.stringValue ?? "?"
        // Header values are one line each: no name may break the header.
        let oneLine = { (text: String) in String(text.map { $0 == "\r" || $0 == "\n" ? " " : $0 }) }
        var body = "softcopy \(status): \(source) -> \(summary["destination"]?.stringValue ?? "?")\n\n"
        for key in ["event", "exit_code", "host", "job", "started", "finished", "reason", "files", "bytes", "copied_files", "copied_bytes", "problems"] {
            let value = summary[key].map { $0.stringValue ?? $0.serialized() } ?? ""
            body += "\(key): \(value)\n"
        }
        for problem in summary["first_problems"]?.arrayValue ?? [] { body += "  \(problem.stringValue ?? "")\n" }
        for place in summary["manifest"]?.arrayValue ?? [] { body += "manifest: \(place.stringValue ?? "")\n" }
        body += "\n" + summary.serialized() + "\n"
        let headers = [
            "From: \(email.from)", "To: \(email.to.joined(separator: ", "))",
            "Subject: \(oneLine("softcopy \(status): \(source)"))", "Date: \(Clock.mailDate())",
            "MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit",
        ]
        // SMTP wants CRLF line ends; a line of a lone "." is escaped by libcurl.
        let text = headers.joined(separator: "\r\n") + "\r\n\r\n" + body.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\r\n")
        return Array(text.utf8)
    }

    private func sendEmail(_ email: NotificationSettings.Email, _ summary: JSONValue, about spec: TargetSpec) {
        let message = Self.mailMessage(email, summary)
        var last = ""
        for attempt in 1...Self.notifyAttempts {
            if attempt > 1 { Clock.sleep(.seconds(1 << (attempt - 1))) }
            do {
                try SMTPClient.send(server: email.server, from: email.from, to: email.to, message: message, timeout: Self.webhookTimeout)
                logger.info("mailed \(email.to.joined(separator: ", ")) of the end of \(spec.source)")
                return
            } catch {
                last = "\(error)"
            }
        }
        logger.warning("could not mail \(email.to.joined(separator: ", ")) through \(email.server) of the end of \(spec.source) after \(Self.notifyAttempts) attempts: \(last) (the copy's outcome stands)")
    }

    private func sendWebhook(_ url: String, _ summary: JSONValue, about spec: TargetSpec) {
        let client = HTTPClient(token: nil)
        var last = ""
        for attempt in 1...Self.notifyAttempts {
            if attempt > 1 { Clock.sleep(.seconds(1 << (attempt - 1))) }
            do {
                let response = try client.request("POST", url, json: summary, timeout: Self.webhookTimeout)
                if (200..<300).contains(response.status) {
                    logger.info("notified \(url) of the end of \(spec.source)")
                    return
                }
                last = "\(response.status) \(response.bodyText.prefix(200))"
            } catch {
                last = "\(error)"
            }
        }
        logger.warning("could not notify \(url) of the end of \(spec.source) after \(Self.notifyAttempts) attempts: \(last) (the copy's outcome stands)")
    }

    private func runCommand(_ command: String, _ summary: JSONValue, about spec: TargetSpec) {
        var environment: [String: String] = ["SOFTCOPY_SUMMARY": summary.serialized()]
        for (key, name) in [("event", "EVENT"), ("status", "STATUS"), ("source", "SOURCE"), ("destination", "DESTINATION"),
                            ("job", "JOB"), ("host", "HOST"), ("started", "STARTED"), ("finished", "FINISHED"), ("reason", "REASON"),
                            ("watch_folder", "WATCH_FOLDER")] {
            environment["SOFTCOPY_" + name] = summary[key]?.stringValue ?? ""
        }
        for (key, name) in [("exit_code", "EXIT_CODE"), ("files", "FILES"), ("bytes", "BYTES"), ("problems", "PROBLEMS")] {
            environment["SOFTCOPY_" + name] = summary[key]?.int64Value.map { String($0) } ?? "0"
        }
        environment["SOFTCOPY_MANIFEST"] = summary["manifest"]?.arrayValue?.first?.stringValue ?? ""
        var last = ""
        for attempt in 1...Self.notifyAttempts {
            if attempt > 1 { Clock.sleep(.seconds(1 << (attempt - 1))) }
            do {
                switch try CommandRunner.run(command, environment: environment, timeout: Self.commandTimeout) {
                case .exited(0):
                    logger.info("ran the notify command for the end of \(spec.source)")
                    return
                case .exited(let code): last = "exit \(code)"
                case .signalled(let signal): last = "killed by signal \(signal)"
                case .timedOut: last = "still running after \(Quantity.formatDuration(Self.commandTimeout)), killed"
                }
            } catch {
                last = "\(error)"
            }
        }
        logger.warning("the notify command for the end of \(spec.source) failed \(Self.notifyAttempts) times: \(last) (the copy's outcome stands)")
    }
}
