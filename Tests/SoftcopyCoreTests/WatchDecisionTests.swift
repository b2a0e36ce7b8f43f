import Testing
import SoftcopyCore

@Suite("Watched folders: which archive gets a job, and where it goes")
struct WatchDecisionTests {
    typealias End = WatchDecision.LastEnd

    @Test("a new archive starts; a running one never gets a second job")
    func newAndRunning() {
        #expect(WatchDecision.decide(running: false, lastEnd: nil, fingerprint: nil) == .start)
        #expect(WatchDecision.decide(running: true, lastEnd: nil, fingerprint: "1:2:0") == .wait)
    }

    @Test("a verified archive is copied again only if it changed since, at a restart as while running")
    func verified() {
        for inThisProcess in [true, false] {
            let end = End(verified: true, fingerprint: "3:100:1", inThisProcess: inThisProcess)
            #expect(WatchDecision.decide(running: false, lastEnd: end, fingerprint: "3:100:1") == .wait)
            #expect(WatchDecision.decide(running: false, lastEnd: end, fingerprint: "4:120:1") == .start)
            #expect(WatchDecision.decide(running: false, lastEnd: end, fingerprint: nil) == .wait, "unreadable now: no loop of jobs")
        }
    }

    @Test("an archive that did not verify is tried again at the service's start, then only when it changes")
    func notVerified() {
        #expect(WatchDecision.decide(running: false, lastEnd: End(verified: false, fingerprint: "3:1:0", inThisProcess: false), fingerprint: "3:1:0") == .start)
        let here = End(verified: false, fingerprint: "3:1:0", inThisProcess: true)
        #expect(WatchDecision.decide(running: false, lastEnd: here, fingerprint: "3:1:0") == .wait)
        #expect(WatchDecision.decide(running: false, lastEnd: here, fingerprint: "3:2:0") == .start)
    }

    @Test("a refused job waits for the service's next start or reload, however often its archive changes")
    func refused() {
        let here = End(verified: false, refused: true, fingerprint: "3:1:0", inThisProcess: true)
        #expect(WatchDecision.decide(running: false, lastEnd: here, fingerprint: "9:9:0") == .wait)
        var reloaded = here
        reloaded.inThisProcess = false
        #expect(WatchDecision.decide(running: false, lastEnd: reloaded, fingerprint: "3:1:0") == .start)
    }

    @Test("a destination template fills its placeholders and knows the folder all copies go under")
    func template() throws {
        let t = try DestinationTemplate.parse("/nas/{host}/{date}/{name}").get()
        #expect(t.fill(.init(name: "a.zarr", path: "x/a.zarr", date: "2026-12-07", host: "acq")) == "/nas/acq/2026-12-07/a.zarr")
        #expect(t.fixedPrefix == "/nas" && t.namesEachArchive)
        #expect(try DestinationTemplate.parse("/nas/{path}").get().namesEachArchive)
        #expect(try !DestinationTemplate.parse("/nas/{date}").get().namesEachArchive)
        #expect(throws: ConfigMessage.self) { try DestinationTemplate.parse("/nas/{name").get() }
        #expect(throws: ConfigMessage.self) { try DestinationTemplate.parse("/nas/name}").get() }
    }
}
