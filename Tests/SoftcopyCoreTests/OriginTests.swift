import Testing
@testable import SoftcopyCore

@Suite("One destination, one source: the origin a copy records")
struct OriginTests {
    let a = CopyOrigin(host: "acq-pc", source: "/data/a.zarr", since: "2026-12-01T10:00:00Z")

    @Test("A destination with no record takes any source; the same source resumes whenever it began")
    func freshAndResume() {
        #expect(CopyOrigin.admit(a, over: nil, replace: false) == .fresh)
        var later = a
        later.since = "2026-12-02T10:00:00Z"
        #expect(CopyOrigin.admit(later, over: a, replace: false) == .resume)
    }

    @Test("Another source, or the same path on another host, is refused unless asked to replace")
    func otherSources() {
        let b = CopyOrigin(host: "acq-pc", source: "/data/b.zarr", since: "x")
        let elsewhere = CopyOrigin(host: "other-pc", source: "/data/a.zarr", since: "x")
        for other in [b, elsewhere] {
            #expect(CopyOrigin.admit(other, over: a, replace: false) == .refuse(a))
            #expect(CopyOrigin.admit(other, over: a, replace: true) == .replace(a))
        }
        let message = CopyOrigin.refusal(destination: "/nas/a.zarr", holds: a, incoming: b)
        #expect(message.contains("/data/a.zarr on acq-pc") && message.contains("--replace"))
    }

    @Test("The origin travels in the attach request, and a malformed one is refused")
    func attachmentCarriesOrigin() throws {
        let attachment = JobAttachment(job: "j1", coordinator: "http://c:7480", agent: 1,
                                       targets: [.init(lane: 0, destination: "a.zarr", origin: a, replace: true), .init(lane: 1, destination: "b.zarr")])
        let parsed = try JobAttachment(json: attachment.json)
        #expect(parsed == attachment)
        var json = attachment.json
        if case .object(var members) = json, case .array(var targets) = members[3].value, case .object(var first) = targets[0] {
            first[2] = ("origin", .object([("host", .integer(3))]))
            targets[0] = .object(first)
            members[3] = ("targets", .array(targets))
            json = .object(members)
        }
        #expect(throws: ProtocolError.self) { _ = try JobAttachment(json: json) }
    }
}
