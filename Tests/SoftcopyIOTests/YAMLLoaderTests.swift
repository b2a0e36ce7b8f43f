import Testing
import SoftcopyCore
import SoftcopyIO

@Suite("YAML through libyaml")
struct YAMLLoaderTests {
    func load(_ text: String) throws -> YAMLNode? {
        try YAMLLoader.load(Array(text.utf8), file: "t.yaml")
    }

    @Test("nodes keep their line and column")
    func marks() throws {
        let node = try #require(try load("targets:\n  - source: /a\n    destination: '/b'\n"))
        guard case .mapping(let top, _) = node, case .sequence(let items, _) = top[0].value,
              case .mapping(let pairs, _) = items[0] else {
            Issue.record("unexpected shape"); return
        }
        #expect(pairs[0].value.mark == SourceMark(line: 2, column: 13))
        guard case .scalar(let s, let quoted, let mark) = pairs[1].value else { Issue.record("not a scalar"); return }
        #expect(s == "/b" && quoted && mark == SourceMark(line: 3, column: 18))
    }

    @Test("anchors and aliases resolve")
    func aliases() throws {
        let file = try TargetsFile.parse(
            try load("targets:\n  - &t {source: /a, destination: /b}\nnprocs: &n 3\n"),
            file: "t.yaml", baseDirectory: "/", home: nil)
        #expect(file.settings.nprocs == 3)
        #expect(file.targets.first?.destination == "/b")
    }

    @Test("an empty document is nil, so the caller can say what it expected")
    func empty() throws {
        #expect(try load("") == nil)
        #expect(try load("# only a comment\n") == nil)
    }

    @Test("syntax errors carry the position libyaml found them at")
    func syntax() {
        #expect(throws: ConfigError.self) { _ = try load("a: [1, 2\nb: c\n") }
        do {
            _ = try load("key: value\n  bad indentation: x\n")
            Issue.record("no error")
        } catch let error as ConfigError {
            #expect(error.mark?.line == 2)
            #expect(error.message.hasPrefix("YAML syntax error"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }
}
