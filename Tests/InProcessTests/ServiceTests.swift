import Testing
import SoftcopyCore
import SoftcopyCoordinator
import SoftcopyIO
import SoftcopyTesting

/// The coordinator's service hosting several jobs in one process.
@Suite("In process: the service and its jobs")
struct ServiceTests {
    @Test("A job started while another runs ends by itself; the service ends with its last job")
    func jobStartedWhileAnotherRuns() throws {
        let dir = TestDirectory("ip-service-two")
        let service = InProcessRun.service()
        let a = SourceScript(root: dir.appending("a"), chunks: 4)
        let b = SourceScript(root: dir.appending("b"), chunks: 3)
        b.writeChunks(0..<3)
        let live = try InProcessRun(InProcessRun.configuration(source: a.root, destination: dir.appending("a-copy"), once: false), in: service)
        a.writeChunks(0..<2)
        #expect(eventually { exists(dir.appending("a-copy") + "/" + SourceScript.chunk(1)) })

        let finished = try InProcessRun(InProcessRun.configuration(source: b.root, destination: dir.appending("b-copy")), in: service)
        #expect(try finished.wait() == .verified)
        #expect(live.job.status == nil)
        #expect(service.run(.untilJobsEnd, until: Clock.now()) == nil)
        #expect(service.jobs.map(\.id) == [live.job.id, finished.job.id])
        #expect(live.job.id != finished.job.id)

        a.writeChunks(2..<4)
        live.job.endAcquisition()
        #expect(service.run(.untilJobsEnd, until: Clock.now() + .seconds(30)) == .verified)
        #expect(live.job.status == .verified)
        #expect(try TreeComparison.differences(source: a.root, destination: dir.appending("a-copy")) == [])
        #expect(try TreeComparison.differences(source: b.root, destination: dir.appending("b-copy")) == [])
    }

    @Test("A graceful shutdown stops every job resumably and refuses new ones; the same jobs started again finish")
    func gracefulShutdown() throws {
        let dir = TestDirectory("ip-service-shutdown")
        let service = InProcessRun.service()
        let sources = ["a", "b"].map { SourceScript(root: dir.appending($0), chunks: 6) }
        let configurations = sources.map { InProcessRun.configuration(source: $0.root, destination: $0.root + "-copy", once: false) }
        let runs = try configurations.map { try InProcessRun($0, in: service) }
        for source in sources { source.writeChunks(0..<3) }
        for source in sources {
            #expect(eventually { exists(source.root + "-copy/" + SourceScript.chunk(2)) })
        }

        service.shutdownGracefully()
        #expect(service.run(.untilShutdown, until: Clock.now() + .seconds(30)) == .interrupted)
        #expect(runs.map(\.job.status) == [.interrupted, .interrupted])
        #expect(throws: CoordinatorService.ShuttingDown.self) { try service.start(configurations[0]) }
        // No manifest: an interrupted copy does not claim to be whole.
        for source in sources { #expect(!exists(source.root + "-copy/" + Manifest.relativePath.string)) }

        let next = InProcessRun.service()
        for source in sources { source.writeChunks(3..<6) }
        for var configuration in configurations {
            configuration.once = true
            try next.start(configuration)
        }
        #expect(next.run(.untilJobsEnd, until: Clock.now() + .seconds(30)) == .verified)
        for source in sources {
            #expect(try TreeComparison.differences(source: source.root, destination: source.root + "-copy") == [])
        }
    }

    @Test("A service that lives until shutdown takes new jobs after its first has ended")
    func jobsComeAndGo() throws {
        let dir = TestDirectory("ip-service-lifetime")
        let service = InProcessRun.service()
        let a = SourceScript(root: dir.appending("a"), chunks: 2)
        a.writeChunks(0..<2)
        #expect(try InProcessRun(InProcessRun.configuration(source: a.root, destination: dir.appending("a-copy")), in: service).wait() == .verified)
        // Its only job has ended, and the service is still there.
        #expect(service.run(.untilShutdown, until: Clock.now() + .milliseconds(200)) == nil)

        let b = SourceScript(root: dir.appending("b"), chunks: 2)
        b.writeChunks(0..<2, generation: 1)
        let second = try InProcessRun(InProcessRun.configuration(source: b.root, destination: dir.appending("b-copy")), in: service)
        #expect(try second.wait() == .verified)
        service.shutdownGracefully()
        #expect(service.run(.untilShutdown, until: Clock.now() + .seconds(5)) == .verified)
        #expect(try TreeComparison.differences(source: b.root, destination: dir.appending("b-copy")) == [])
    }
}
