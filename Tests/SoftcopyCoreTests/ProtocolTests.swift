import Testing
@testable import SoftcopyCore

@Suite("HTTP protocol: bodies, listings, destinations")
struct ProtocolTests {
    @Test("A lease grant and an ack survive a round trip through JSON")
    func roundTrips() throws {
        let grant = LeaseGrant(items: [.init(lane: 1, path: path("c/0/1"), operation: .delete, lease: LeaseID(7), size: 42)], finished: false)
        #expect(try LeaseGrant(json: JSONParser.parse(grant.json.serialized())) == grant)
        let ack = AckReport(agent: 3, entries: [
            .init(lane: 0, path: path("c/0/0"), lease: LeaseID(9), outcome: .copied(version: version(5), checksum: someChecksum, destinationInode: 11, bytesWritten: 100)),
            .init(lane: 0, path: path("zarr.json"), lease: LeaseID(10), outcome: .failed(message: "disk full", transient: true)),
            .init(lane: 0, path: path("gone"), lease: LeaseID(12), outcome: .sourceVanished),
        ])
        #expect(try AckReport(json: JSONParser.parse(ack.json.serialized())) == ack)
    }

    @Test("An attach answer carries where each target's copy is on the agent; an older agent's answer without it still reads")
    func attachAnswerDestinations() throws {
        let answer = AttachAnswer(job: "j1", attached: true, destinations: [.init(lane: 0, path: "/data/store1/acq.zarr")])
        #expect(answer.json.serialized() == #"{"job":"j1","attached":true,"destinations":[{"target":0,"path":"/data/store1/acq.zarr"}]}"#)
        #expect(try AttachAnswer(json: answer.json) == answer)
        #expect(try AttachAnswer(json: JSONParser.parse(#"{"job":"j1","attached":true}"#)).destinations == nil)
    }

    @Test("Version tokens and checksums parse from bytes: round trips, extremes, and everything malformed refused")
    func tokensAndChecksums() {
        for v in [FileVersion(inode: 0, size: 0, mtimeNanoseconds: 0, ctimeNanoseconds: 0),
                  FileVersion(inode: .max, size: .max, mtimeNanoseconds: .min, ctimeNanoseconds: .max),
                  FileVersion(inode: 12, size: 4096, mtimeNanoseconds: -5, ctimeNanoseconds: 1_795_301_412_317_794_551)] {
            #expect(FileVersion(token: v.token) == v)
        }
        for bad in ["", ":::", "1:2:3", "1:2:3:4:5", "1:2:3:", ":2:3:4", "-1:2:3:4", "1:-2:3:4", "1:2:3:4x", "1:2:--3:4",
                    "1:2:3:-", "18446744073709551616:2:3:4", "1:2:9223372036854775808:4", "1:2:3:-9223372036854775809", "1 :2:3:4"] {
            #expect(FileVersion(token: bad) == nil, "\(bad)")
        }
        let c = Checksum(high: 0x0123_4567_89ab_cdef, low: 0xfedc_ba98_7654_3210)
        #expect(c.hex == "0123456789abcdeffedcba9876543210")
        #expect(Checksum(hex: c.hex) == c)
        #expect(Checksum(hex: c.hex.uppercased()) == c)
        for bad in ["", String(repeating: "0", count: 31), String(repeating: "0", count: 33), String(repeating: "g", count: 32),
                    String(repeating: "0", count: 31) + ":", String(repeating: "0", count: 31) + "@", String(repeating: "0", count: 31) + "`",
                    String(repeating: "0", count: 31) + "/", String(repeating: "0", count: 31) + "G"] {
            #expect(Checksum(hex: bad) == nil, "\(bad)")
        }
    }

    @Test("The manifest's text, written directly, is the same JSON as its JSONValue, compact and indented")
    func manifestText() throws {
        var verdict = ArchiveVerdict()
        verdict.verified = [
            .init(path: path("zarr.json"), role: .metadata, size: 10, checksum: someChecksum, mtimeNanoseconds: -3),
            .init(path: path("c/0/q\"\\é"), role: .data, size: 1 << 40, checksum: Checksum(high: .max, low: 0), mtimeNanoseconds: 5, holders: [1, 2, 9]),
        ]
        verdict.problems = [.init(path: path("c/1"), kind: .missing)]
        var manifest = Manifest(softcopyVersion: "t", source: "/s", destination: "d", host: "h", started: "a", finished: "b",
                                endReason: nil, verdict: verdict, statistics: TrackerStatistics())
        manifest.nodeNames = [1: "one", 2: "tw\"o"]
        for indent in [nil, 1, 2] {
            #expect(try JSONParser.parse(manifest.text(indent: indent)) == manifest.json())
        }
        // Entry lines written in parts (on several cores) join into the very same bytes.
        let count = manifest.verdict.verified.count
        for indent in [nil, 1] {
            let parts = [manifest.entryLines(0..<1), manifest.entryLines(1..<1), manifest.entryLines(1..<count)]
            #expect(manifest.bytes(indent: indent, entries: parts) == manifest.bytes(indent: indent))
        }
        manifest.verdict.verified = []
        #expect(try JSONParser.parse(manifest.text(indent: 1)) == manifest.json())
        #expect(try JSONParser.parse(manifest.text()) == manifest.json())
    }

    @Test("A listing as written decodes in runs, split anywhere, to what the whole gives; a split inside a name falls back")
    func listingRuns() throws {
        let entries = (0..<50).map { (i: Int) -> ListingEntry in
            let checksum: Checksum? = i % 3 == 0 ? nil : Checksum(high: UInt64(i), low: 7)
            let source: FileVersion? = i % 4 == 0 ? nil : version(UInt64(i), size: UInt64(i))
            return ListingEntry(path: path("c/\(i / 10)/\(i % 10)"), size: UInt64(i), checksum: checksum, sourceVersion: source)
        }
        let bytes = Array(AgentListing.encode(entries, relativeTo: .root, checksums: true).utf8) + [0x0A]
        #expect(try AgentListing.decode(bytes: bytes, base: .root) == entries)
        for parts in 1...7 {
            let runs = try #require(AgentListing.memberRunsAsWritten(bytes, parts: parts))
            #expect(runs.count <= parts)
            let decoded = runs.map { AgentListing.decodeMembersAsWritten(bytes, $0, base: .root) }
            #expect(decoded.allSatisfy { $0 != nil } && decoded.flatMap { $0! } == entries, "\(parts) parts")
        }
        #expect(AgentListing.memberRunsAsWritten(Array("[]".utf8), parts: 2) == nil)
        let emptyRuns = try #require(AgentListing.memberRunsAsWritten(Array("{}".utf8), parts: 3))
        #expect(emptyRuns.allSatisfy { $0.isEmpty })

        // `],"` at the end of a name looks like a boundary: the run cut there does not
        // decode, and the whole listing still does.
        let tricky = [ListingEntry(path: path("x],"), size: 1), ListingEntry(path: path("y"), size: 2)]
        let text = Array(AgentListing.encode(tricky, relativeTo: .root, checksums: false).utf8)
        #expect(String(decoding: text, as: UTF8.self) == #"{"x],":[0,1],"y":[0,2]}"#)
        var cutInsideName = false
        for parts in 2...22 {
            let decoded = try #require(AgentListing.memberRunsAsWritten(text, parts: parts)).map {
                AgentListing.decodeMembersAsWritten(text, $0, base: .root)
            }
            if decoded.contains(where: { $0 == nil }) {
                cutInsideName = true
            } else {
                #expect(decoded.flatMap { $0! } == tricky, "\(parts) parts")
            }
        }
        #expect(cutInsideName)
        #expect(try AgentListing.decode(bytes: text, base: .root) == tricky)
    }

    @Test("A bundle request and its frames survive a round trip; a body that is cut short, padded or inconsistent is refused")
    func bundles() throws {
        let request = BundleRequest(items: [.init(lane: 0, path: path("c/0/0"), lease: LeaseID(3)), .init(lane: 2, path: path("zarr.json"), lease: LeaseID(4))])
        #expect(try BundleRequest(json: JSONParser.parse(request.json.serialized())) == request)
        #expect(throws: ProtocolError.self) { try BundleRequest(json: JSONParser.parse(#"{"files": []}"#)) }
        #expect(throws: ProtocolError.self) { try BundleRequest(json: JSONParser.parse(#"{"files": [{"target": 0, "path": "/etc/passwd", "lease": 1}]}"#)) }

        let data: [UInt8] = Array("chunk bytes\n with a newline".utf8)
        let good = BundleFrame(path: path("c/0/0"), version: version(5), checksum: someChecksum, mode: 0o640, length: UInt64(data.count))
        let gone = BundleFrame(path: path("c/0/1"), status: 404, reason: "vanished", message: "c/0/1 is no longer at the source")
        let body = good.headerLine + data + gone.headerLine
        let frames = try BundleFrame.split(body)
        #expect(frames.map(\.frame) == [good, gone])
        #expect(Array(body[frames[0].data]) == data && frames[1].data.isEmpty)
        #expect(throws: ProtocolError.self) { try BundleFrame.split(Array(body.dropLast())) }  // header line cut
        #expect(throws: ProtocolError.self) { try BundleFrame.split(good.headerLine + data.dropLast()) }  // data cut
        #expect(throws: ProtocolError.self) { try BundleFrame.split(body + [0x20]) }  // trailing bytes
        #expect(throws: ProtocolError.self) { try BundleFrame(json: JSONParser.parse(#"{"path": "a", "status": 404, "length": 3}"#)) }
        #expect(throws: ProtocolError.self) { try BundleFrame(json: JSONParser.parse(#"{"path": "a", "status": 200, "length": 0, "version": "1:0:0:0", "checksum": "00000000000000000000000000000000", "mode": "9"}"#)) }
        #expect(try BundleFrame.split([]).isEmpty)
    }

    @Test("The typed messages keep the wire names and every digit; each error names the message and the field", arguments: [
        (#"{"agent": 0, "max_items": 4}"#, "lease request: 'agent' must be an agent number from 1 to 4294967295"),
        (#"{"agent": 1}"#, "lease request: 'max_items' must be from 1 to 1024"),
        (#"{"agent": 1, "results": [{"target": 0, "path": "a", "lease": 1, "outcome": "teleported"}]}"#, "ack: 'results[0].outcome' is unknown: \"teleported\""),
        (#"{"agent": 1, "results": [{"target": 0, "path": "a", "lease": -1, "outcome": "deleted"}]}"#, "ack: 'results[0].lease' must be a whole number from 0 to 18446744073709551615"),
        (#"{"agent": 1, "results": [{"target": 1048576, "path": "a", "lease": 1, "outcome": "deleted"}]}"#, "ack: 'results[0].target' must be a target number from 0 to 1048575"),
        (#"{"agent": 1, "results": [{"target": 0, "path": "a", "lease": 1, "outcome": "copied", "checksum": "00"}]}"#, "ack: 'results[0].version' is missing"),
        (#"{"agent": 1, "results": {}}"#, "ack: 'results' must be a list"),
        (#"{"items": [{"target": 0, "path": "a", "op": "move", "lease": 1}]}"#, "lease grant: 'items[0].op' must be copy or delete, found \"move\""),
        (#"{"items": [{"target": 0, "path": 7, "op": "copy", "lease": 1}]}"#, "lease grant: 'items[0].path' must be a string"),
        (#"[1]"#, "lease grant: must be a JSON object"),
        (#"{"job": "j", "coordinator": "http://x:1", "agent": 2, "targets": [{"index": 0, "destination": ""}]}"#, "attach request: 'targets[0].destination' must be a non-empty path"),
        (#"{"destination": "d", "files": [{"path": "a", "size": 1}]}"#, "removal request: 'files[0]' without a job, each file must name the copy to remove ('size' and 'xxh3_128')"),
    ])
    func typedMessages(body: String, message: String) throws {
        let json = try JSONParser.parse(body)
        let error: ProtocolError? = {
            do {
                if message.hasPrefix("lease request") { _ = try LeaseRequest(json: json) }
                if message.hasPrefix("ack") { _ = try AckReport(json: json) }
                if message.hasPrefix("lease grant") { _ = try LeaseGrant(json: json) }
                if message.hasPrefix("attach request") { _ = try JobAttachment(json: json) }
                if message.hasPrefix("removal request") { _ = try RemovalRequest(json: json) }
                return nil
            } catch let error as ProtocolError {
                return error
            } catch {
                return nil
            }
        }()
        #expect(error?.message == message)

        // Wire names, not Swift names; 64-bit numbers exactly; a nil optional left out.
        let ack = AckReport(agent: NodeID(.max), entries: [.init(lane: 2, path: path("c/0"), lease: LeaseID(.max), outcome: .copied(
            version: FileVersion(inode: .max, size: 1, mtimeNanoseconds: .min, ctimeNanoseconds: 0), checksum: someChecksum, destinationInode: 5, bytesWritten: 1))])
        #expect(ack.json.serialized() == #"{"agent":4294967295,"results":[{"target":2,"path":"c/0","lease":18446744073709551615,"outcome":"copied","version":"18446744073709551615:1:-9223372036854775808:0","checksum":"\#(someChecksum.hex)","inode":5,"bytes":1}]}"#)
        #expect(try AckReport(json: JSONParser.parse(ack.json.serialized())) == ack)
    }

    @Test("A malformed body is refused, naming the field")
    func malformedBodies() throws {
        #expect(throws: ProtocolError("lease request: 'max_items' must be from 1 to 1024")) {
            try LeaseRequest(json: JSONParser.parse(#"{"agent": 1, "max_items": 0}"#))
        }
        #expect(throws: ProtocolError.self) { try AckReport(json: JSONParser.parse(#"{"agent": 1, "results": [{"target": 0, "path": "../x", "lease": 1, "outcome": "deleted"}]}"#)) }
        #expect(throws: ProtocolError.self) { try LeaseGrant(json: JSONParser.parse(#"{"items": [{"target": 0, "path": "/etc/passwd", "op": "copy", "lease": 1}]}"#)) }
        #expect(throws: ProtocolError.self) { try JobAttachment(json: JSONParser.parse(#"{"job": "a b", "coordinator": "http://x:1", "agent": 1, "targets": []}"#)) }
    }

    @Test("Destinations resolve under the agent's root, or are refused")
    func destinations() throws {
        #expect(try JobAttachment.resolve(destination: "acq.zarr", root: "/data") == path("acq.zarr"))
        #expect(try JobAttachment.resolve(destination: "/data/lab/acq.zarr", root: "/data/") == path("lab/acq.zarr"))
        #expect(try JobAttachment.resolve(destination: "./lab/./acq.zarr", root: "/data") == path("lab/acq.zarr"))
        for bad in ["../acq.zarr", "/database/acq.zarr", "/etc", "lab/../../x", "/data", "."] {
            #expect(throws: ProtocolError.self, "\(bad)") { try JobAttachment.resolve(destination: bad, root: "/data") }
        }
    }

    @Test("PYME listings: folders with a trailing slash and flags, files with size, checksum and version on request")
    func listings() throws {
        let entries = [
            ListingEntry(path: path("a.zarr/c"), isDirectory: true, size: 4),
            ListingEntry(path: path("a.zarr/zarr.json"), size: 269, checksum: someChecksum, sourceVersion: version(3, size: 269)),
        ]
        let plain = AgentListing.encode(entries, relativeTo: path("a.zarr"), checksums: false)
        #expect(plain == #"{"c/":[1,4],"zarr.json":[0,269]}"#)
        let full = AgentListing.encode(entries, relativeTo: path("a.zarr"), checksums: true)
        let decoded = try AgentListing.decode(JSONParser.parse(full), base: path("a.zarr"))
        #expect(decoded == entries)
        let odd = [ListingEntry(path: path("q\"\\\n.zarr/x"), size: 1)]
        #expect(try AgentListing.decode(JSONParser.parse(AgentListing.encode(odd, relativeTo: .root, checksums: true)), base: .root)
            == odd)
        #expect(throws: ProtocolError.self) { try AgentListing.decode(JSONParser.parse(#"{"../x": [0, 1]}"#), base: .root) }
    }

    @Test("A listing entry matches a record by size, checksum and, when recorded, source version")
    func matching() {
        let record = DestinationRecord(version: version(3, size: 269), checksum: someChecksum, inode: 1)
        #expect(ListingEntry(path: path("f"), size: 269, checksum: someChecksum, sourceVersion: version(3, size: 269)).matches(record))
        #expect(ListingEntry(path: path("f"), size: 269, checksum: someChecksum).matches(record))
        #expect(!ListingEntry(path: path("f"), size: 269, checksum: someChecksum, sourceVersion: version(4, size: 269)).matches(record))
        #expect(!ListingEntry(path: path("f"), size: 269, checksum: Checksum(high: 9, low: 9)).matches(record))
        #expect(!ListingEntry(path: path("f"), size: 268, checksum: someChecksum).matches(record))
    }
}

@Suite("Leasing to several agents")
struct ArchiveTrackerAgentTests {
    @Test("A key an agent holds goes back to that agent while it is there, and to any agent once it is gone")
    func stickyHolder() {
        var tracker = ArchiveTracker()
        let now = MonotonicInstant.zero
        tracker.observe(path("c/0"), .file(version(1)), cause: .renamedInto, at: now)
        let first = tracker.lease(maxItems: 8, consumer: 1, now: now)
        #expect(first.map(\.path) == [path("c/0")])
        tracker.complete(path("c/0"), lease: first[0].lease, outcome: .copied(version: version(1), checksum: someChecksum, destinationInode: 5, bytesWritten: 100), at: now)
        #expect(tracker.destinationRecord(of: path("c/0"))?.holder == 1)
        // A new version: agent 2 may not take it while agent 1 is there.
        tracker.observe(path("c/0"), .file(version(2)), cause: .renamedInto, at: now)
        let nodes = [PlacementNode(id: 1, name: "a", freeBytes: nil), PlacementNode(id: 2, name: "b", freeBytes: nil)]
        let placement = Placement()
        let policy = { (asker: NodeID, nodes: [PlacementNode]) in
            { (_: RelativePath, holder: NodeID?, size: UInt64) in
                placement.decide(.init(size: size, holder: holder), asker: asker, nodes: nodes)
            }
        }
        #expect(tracker.lease(maxItems: 8, consumer: 2, now: now, accepts: policy(2, nodes)).isEmpty)
        let again = tracker.lease(maxItems: 8, consumer: 1, now: now, accepts: policy(1, nodes))
        #expect(again.map(\.path) == [path("c/0")], "the holder gets its key back")
        _ = tracker.releaseLeases(of: 1, now: now)
        // Agent 1 went away: agent 2 takes it.
        let agentOneGone = [PlacementNode(id: 1, name: "a", freeBytes: nil, attached: false), nodes[1]]
        #expect(tracker.lease(maxItems: 8, consumer: 2, now: now, accepts: policy(2, agentOneGone)).map(\.path) == [path("c/0")])
    }

    @Test("Declined keys keep their place at the head of the queue")
    func declinedKeepOrder() {
        var tracker = ArchiveTracker()
        let now = MonotonicInstant.zero
        for n in 0..<3 { tracker.observe(path("c/\(n)"), .file(version(UInt64(n + 1))), cause: .renamedInto, at: now) }
        let held = tracker.lease(maxItems: 1, consumer: 1, now: now)
        tracker.complete(held[0].path, lease: held[0].lease, outcome: .copied(version: version(1), checksum: someChecksum, destinationInode: 5, bytesWritten: 100), at: now)
        tracker.observe(path("c/0"), .file(version(9)), cause: .renamedInto, at: now)
        let other = tracker.lease(maxItems: 8, consumer: 2, now: now, accepts: { _, holder, _ in holder == nil ? .take : .skip })
        #expect(other.map(\.path) == [path("c/1"), path("c/2")])
        #expect(tracker.lease(maxItems: 8, consumer: 1, now: now).map(\.path) == [path("c/0")])
    }
}
