import Testing
import SoftcopyCore

/// Builds YAML trees by hand; the libyaml loader is tested against real files in SoftcopyIOTests.
private func s(_ v: String, _ line: Int = 1, _ col: Int = 1) -> YAMLNode { .scalar(v, quoted: false, SourceMark(line: line, column: col)) }
private func map(_ pairs: [(YAMLNode, YAMLNode)], _ line: Int = 1) -> YAMLNode {
    .mapping(pairs.map { (key: $0.0, value: $0.1) }, SourceMark(line: line, column: 1))
}
private func list(_ items: [YAMLNode], _ line: Int = 1) -> YAMLNode { .sequence(items, SourceMark(line: line, column: 1)) }

private func parse(_ node: YAMLNode?) throws -> TargetsFile {
    try TargetsFile.parse(node, file: "targets.yaml", baseDirectory: "/cfg", home: "/home/u")
}

@Suite("Targets file model")
struct TargetsFileTests {
    @Test("softcopy's format with our own keys")
    func valid() throws {
        let doc = map([
            (s("targets"), list([map([(s("source", 2, 5), s("/data/a.zarr", 2, 13)), (s("destination"), s("b.zarr")), (s("writer"), s("in-place"))], 2)])),
            (s("nprocs"), s("4")), (s("max_rate"), s("200M")), (s("idle_timeout"), s("10m")),
        ])
        let file = try parse(doc)
        #expect(file.targets.count == 1)
        #expect(file.targets[0].source == "/data/a.zarr")
        #expect(file.targets[0].destination == "/cfg/b.zarr")
        #expect(file.targets[0].writer == .inPlace)
        #expect(file.targets[0].sourceMark == SourceMark(line: 2, column: 13))
        #expect(file.settings.nprocs == 4)
        #expect(file.settings.maxRate == RateSchedule(rate: 200_000_000))
        #expect(file.settings.idleTimeout == .seconds(600))
    }

    @Test("TLS files are paths relative to the targets file; the retry deadline is a duration")
    func tlsAndRetryDeadline() throws {
        let doc = map([
            (s("targets"), list([map([(s("source"), s("/a")), (s("destination"), s("/b"))])])),
            (s("tls_cert"), s("tls/cert.pem")), (s("tls_key"), s("/etc/k.pem")), (s("tls_ca"), s("~/ca.pem")),
            (s("retry_deadline"), s("15m")),
        ])
        let file = try parse(doc)
        #expect(file.settings.tlsCertificate == "/cfg/tls/cert.pem")
        #expect(file.settings.tlsKey == "/etc/k.pem")
        #expect(file.settings.tlsCA == "/home/u/ca.pem")
        #expect(file.settings.retryDeadline == .seconds(900))
    }

    @Test("errors name the line and column of the culprit", arguments: [
        (map([(s("targets"), list([map([(s("sorce", 3, 5), s("/a")), (s("destination"), s("/b"))])]))]), "targets.yaml:3:5: unknown key 'sorce' in target 1 (did you mean 'source'?)"),
        (map([(s("tragets", 1, 1), list([]))]), "targets.yaml:1:1: unknown key 'tragets' at the top level (did you mean 'targets'?)"),
        (map([(s("targets"), list([], 4))]), "targets.yaml:4:1: 'targets' is empty"),
        (map([(s("targets"), list([map([(s("source"), s("/a")), (s("destination", 6, 5), s("/a/b", 6, 18))])]))]), "targets.yaml:6:18: destination /a/b lies inside the source /a"),
        (map([(s("targets"), list([map([(s("source"), s("/a")), (s("destination"), s("/b"))])])), (s("nprocs"), s("0", 9, 9))]), "targets.yaml:9:9: 'nprocs' must be a whole number from 1 to 1024, found '0'"),
        (map([(s("targets"), list([map([(s("source"), s("/a")), (s("destination"), s("/b")), (s("writer"), s("sometimes", 5, 13))])]))]), "targets.yaml:5:13: 'writer' must be one of auto, atomic, in-place, found 'sometimes'"),
        (map([(s("targets"), list([map([(s("source"), s("/a")), (s("destination"), s("/b"))])])), (s("tls_cert"), s("c.pem", 7, 11))]), "targets.yaml:7:11: 'tls_cert' and 'tls_key' go together"),
        (list([], 1), "targets.yaml:1:1: expected a mapping with a 'targets:' key at the top level, found a list"),
        (map([(s("targets"), list([map([(s("source"), s("/a")), (s("destination"), s("/b"))])])), (s("notify"), map([(s("on"), s("done"))], 8))]), "targets.yaml:8:1: 'notify' needs a 'webhook', a 'command' or an 'email'"),
        (map([(s("targets"), list([map([(s("source"), s("/a")), (s("destination"), s("/b"))])])), (s("notify"), map([(s("webhook"), s("hooks.example", 8, 12))], 8))]), "targets.yaml:8:12: 'webhook' must be an http:// or https:// URL, found 'hooks.example'"),
        (map([(s("targets"), list([map([(s("source"), s("/a")), (s("destination"), s("/b")), (s("remove_source"), s("always", 4, 20))])]))]), "targets.yaml:4:20: 'remove_source' must be one of never, after-verify, live, found 'always'"),
        (map([(s("targets"), list([map([(s("source"), s("/a")), (s("destination"), s("/b"))])])), (s("checksums"), list([s("sha1", 9, 14)]))]), "targets.yaml:9:14: 'checksums' must be one of xxh128, sha256, md5, found 'sha1'"),
    ])
    func errors(doc: YAMLNode, message: String) {
        #expect {
            _ = try parse(doc)
        } throws: { error in
            "\(error)".hasPrefix(message)
        }
    }

    @Test("notify, remove_source and checksums, at the top and per target")
    func removalAndNotify() throws {
        let doc = map([
            (s("targets"), list([map([(s("source"), s("/a")), (s("destination"), s("/b")), (s("remove_source"), s("live")),
                                      (s("notify"), map([(s("command"), s("echo done")), (s("on"), s("failed"))]))])])),
            (s("remove_source"), s("after-verify")), (s("checksums"), list([s("sha256"), s("md5")])),
            (s("notify"), map([(s("webhook"), s("https://hooks.example/x"))])),
        ])
        let file = try parse(doc)
        #expect(file.targets[0].removeSource == .live && file.settings.removeSource == .afterVerify)
        #expect(file.settings.checksums == [.sha256, .md5])
        #expect(file.settings.notify == NotificationSettings(webhook: "https://hooks.example/x"))
        #expect(file.targets[0].notify == NotificationSettings(command: "echo done", on: .failed))
        #expect(file.targets[0].notify?.tells(succeeded: true) == false && file.settings.notify?.tells(succeeded: true) == true)
    }

    @Test("an empty file says what it needs")
    func empty() {
        #expect(throws: ConfigError(file: "targets.yaml", mark: nil, message: "the file is empty; expected a top-level 'targets:' list")) {
            _ = try parse(nil)
        }
    }

    @Test("a destination used twice is rejected at its second use")
    func duplicateDestination() {
        let t = { (line: Int) in map([(s("source"), s("/a\(line)")), (s("destination"), s("/b", line, 18))], line) }
        #expect {
            _ = try parse(map([(s("targets"), list([t(2), t(4)]))]))
        } throws: { error in
            "\(error)".hasPrefix("targets.yaml:4:18: destination /b is already used by the target at line 2")
        }
    }

    @Test("a repeated key is an error, not a silent override")
    func repeatedKey() {
        #expect {
            _ = try parse(map([(s("targets"), list([map([(s("source", 2, 5), s("/a")), (s("source", 3, 5), s("/c")), (s("destination"), s("/b"))])]))]))
        } throws: { error in
            "\(error)".hasPrefix("targets.yaml:3:5: key 'source' appears twice in target 1 (first at line 2)")
        }
    }
}
