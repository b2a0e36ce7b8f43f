import Glibc
import Testing
import SoftcopyCore
import SoftcopyIO
import SoftcopyTesting

/// `watch:` entries, read through libyaml as a user writes them, and the archives the
/// service finds in a folder.
@Suite("Watched folders: the targets file's entries and the archives found")
struct WatchConfigTests {
    func parse(_ text: String) throws -> TargetsFile {
        try TargetsFile.parse(try YAMLLoader.load(Array(text.utf8), file: "t.yaml"), file: "t.yaml", baseDirectory: "/etc/softcopy", home: "/home/u")
    }

    @Test("a watch entry alone is a valid targets file; its keys are a target's, its destination a template")
    func entry() throws {
        let file = try parse("""
            watch:
              - folder: /data/acquisitions
                destination: /nas/lab/{date}/{name}
                idle_timeout: 15m
                remove_source: after-verify
                notify: {webhook: "http://hooks.example/x", on: failed}
            """)
        #expect(file.targets.isEmpty)
        let watch = try #require(file.watches.first)
        #expect(watch.folder == "/data/acquisitions" && watch.pattern == "*.zarr")
        #expect(watch.idleTimeout == .seconds(900))
        #expect(watch.options.removeSource == .afterVerify && watch.options.notify?.on == .failed)
        let spec = watch.target(relativePath: "alice/fish 1.zarr", date: "2026-12-07", host: "acq-pc")
        #expect(spec.source == "/data/acquisitions/alice/fish 1.zarr")
        #expect(spec.destination == "/nas/lab/2026-12-07/fish 1.zarr")
        #expect(spec.removeSource == .afterVerify)
    }

    @Test("relative destinations are the agents' as written, and the folder's place for a local copy")
    func relative() throws {
        let file = try parse("watch:\n  - {folder: acq, destination: 'copies/{host}/{path}', pattern: '*.ome.zarr'}\n")
        let watch = try #require(file.watches.first)
        #expect(watch.folder == "/etc/softcopy/acq" && watch.pattern == "*.ome.zarr")
        let spec = watch.target(relativePath: "p/plate.ome.zarr", date: "d", host: "h")
        #expect(spec.destination == "/etc/softcopy/copies/h/p/plate.ome.zarr")
        #expect(spec.agentDestination == "copies/h/p/plate.ome.zarr")
    }

    @Test("mistakes in a watch entry name the line and say what is wrong", arguments: [
        ("watch:\n  - folder: /a\n", "t.yaml:2:5: watch entry 1 has no 'destination'"),
        ("watch:\n  - folder: /a\n    destination: /nas/all\n", "t.yaml:3:18: the destination '/nas/all' is the same for every archive"),
        ("watch:\n  - folder: /a\n    destination: /a/copies/{name}\n", "t.yaml:3:18: the destination /a/copies/{name} lies inside the watched folder /a"),
        ("watch:\n  - folder: /data/a\n    destination: /data/{name}\n", "t.yaml:3:18: the watched folder /data/a lies inside the destinations' folder /data"),
        ("watch:\n  - folder: /a\n    destination: /n/{nmae}\n", "t.yaml:3:18: unknown placeholder {nmae}"),
        ("watch:\n  - folder: /a\n    destination: /n/{name}\n    patern: x\n", "t.yaml:4:5: unknown key 'patern' in watch entry 1 (did you mean 'pattern'?)"),
        ("watch:\n  - folder: /a\n    destination: /n/{name}\n    pattern: a/b\n", "t.yaml:4:14: 'pattern' matches one folder name"),
        ("watch:\n  - {folder: /a, destination: '/n/{name}'}\n  - {folder: /a/b, destination: '/m/{name}'}\n", "the watched folder /a/b overlaps /a"),
        ("watch: []\n", "t.yaml:1:8: 'watch' must be a list of folders"),
        ("nprocs: 2\n", "missing required key 'targets' (a list of source/destination pairs) or 'watch'"),
    ])
    func errors(_ text: String, _ expected: String) {
        do {
            _ = try parse(text)
            Issue.record("accepted: \(text)")
        } catch {
            #expect("\(error)".contains(expected), "\(error)")
        }
    }

    @Test("archives are found below the folder by name, up to four levels down, and never inside another archive or a hidden folder")
    func finder() throws {
        let dir = TestDirectory("finder")
        let root = dir.path
        for path in ["a.zarr/c/0", "alice/2026-12-07/b.zarr/A/1/inner.zarr", "notes", ".trash/x.zarr", "1/2/3/4/deep.zarr", "1/2/3/e.zarr"] {
            try DestinationTree.makeDirectories(root + "/" + path)
        }
        _ = creat(root + "/file.zarr", 0o644)
        #expect(ArchiveFinder.archives(in: root, pattern: "*.zarr") == ["1/2/3/e.zarr", "a.zarr", "alice/2026-12-07/b.zarr"])
        #expect(ArchiveFinder.archives(in: root + "/missing", pattern: "*.zarr") == nil)

        // A new folder anywhere in an archive, or its end marker, changes its fingerprint.
        let before = try #require(ArchiveFinder.fingerprint(of: root + "/a.zarr"))
        #expect(ArchiveFinder.Fingerprint(before.description) == before)
        try DestinationTree.makeDirectories(root + "/a.zarr/c/1")
        let grown = try #require(ArchiveFinder.fingerprint(of: root + "/a.zarr"))
        #expect(grown != before && grown.folders == before.folders + 1)
        _ = creat(root + "/a.zarr/complete", 0o644)
        #expect(ArchiveFinder.fingerprint(of: root + "/a.zarr")?.complete == true)
    }
}
