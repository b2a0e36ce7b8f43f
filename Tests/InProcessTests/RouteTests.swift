import Testing
import SoftcopyCore
import SoftcopyHTTP

/// The one table of endpoints: what a client builds, a server reads back as the same route.
@Suite("Routes: every endpoint built and parsed by one table")
struct RouteTests {
    static let routes: [Route] = [
        .health, .metrics, .status, .lease(job: "j1f"), .ack(job: "j1f"), .bundle(job: "j1f"),
        .chunk(job: "j1f", lane: "3", path: "a/c/0/1"), .chunk(job: "j1f", lane: "0", path: "caf\u{10FFE9}/x y%2F"),
        .attach, .detach(job: "j1f"), .manifest(job: "j1f", lane: "2"), .checksums(job: "j1f", lane: "2"),
        .checksums(job: "j1f", lane: "2", algorithm: .sha256), .checksums(job: "j1f", lane: "2", algorithm: .md5), .remove, .list(), .list(path: "dst/a"),
        .file(path: "dst/.softcopy/manifest.json"), .file(path: "d\u{10FFFF}/\u{E9}"),
        .view(job: "j1f", lane: "0", path: ""), .view(job: "j1f", lane: "1", path: "c/0/zarr.json"),
    ]

    @Test("Each route's URL, split as the server splits it, is that route again, with its query")
    func roundTrip() {
        for route in Self.routes {
            let url = route.url("", query: [("lease", "42"), ("destination", "a b/c")])
            let (components, query) = URLCoding.split(url)
            #expect(Route(method: route.method, components: components) == route, "\(url)")
            #expect(query["lease"] == "42" && query["destination"] == "a b/c", "\(url)")
        }
    }

    @Test("A route is only its own method: the same path with another method is no route")
    func methodsMatter() {
        #expect(Route(method: "POST", components: ["v1", "health"]) == nil)
        #expect(Route(method: "GET", components: ["v1", "jobs", "j", "lease"]) == nil)
        #expect(Route(method: "HEAD", components: ["v1", "files", "a"]) == .file(path: "a"))
        #expect(Route(method: "GET", components: ["v1", "jobs", "j", "targets", "0", "files"]) == nil)
        #expect(Route(method: "GET", components: ["v2", "health"]) == nil)
    }

    @Test("Routes name their job; only those of a job do")
    func jobs() {
        #expect(Self.routes.filter { $0.job != nil }.allSatisfy { $0.job == "j1f" })
        #expect(Route.health.job == nil && Route.attach.job == nil)
    }
}
