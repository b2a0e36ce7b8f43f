import Testing
@testable import SoftcopyCore

/// The per-file messages' hand-written paths held to the coders (see `ControlMessage`):
/// the same JSON written, the same value read, and nothing taken that the decoder refuses.
@Suite("Hand-written paths of the per-file messages")
struct HandWrittenMessageTests {
    static let version = FileVersion(inode: .max, size: 16_384, mtimeNanoseconds: .min, ctimeNanoseconds: 1_795_301_412_317_794_551)

    static let acks: [AckReport] = [
        AckReport(agent: NodeID(.max), entries: [
            .init(lane: 3, path: path("a/c/0/1"), lease: LeaseID(.max), outcome: .copied(version: version, checksum: someChecksum, destinationInode: 9, bytesWritten: 16_384)),
            .init(lane: 0, path: path("zarr.json"), lease: LeaseID(0), outcome: .unchanged(version: version, checksum: someChecksum, destinationInode: 0)),
            .init(lane: 1, path: path("a/c/9"), lease: LeaseID(7), outcome: .sourceVanished),
            .init(lane: 1, path: path("a/c/8"), lease: LeaseID(7), outcome: .changedWhileReading),
            .init(lane: 1, path: path("a/c/7"), lease: LeaseID(7), outcome: .deleted),
            .init(lane: 2, path: path("caf\u{e9}/x y"), lease: LeaseID(8), outcome: .failed(message: "no space \"left\"", transient: false)),
        ], freeBytes: 1 << 40),
        AckReport(agent: NodeID(1), entries: []),
    ]
    static let frames: [BundleFrame] = [
        BundleFrame(path: path("a/c/0"), version: version, checksum: someChecksum, mode: 0o644, length: 16_384),
        BundleFrame(path: path("a/c/1"), status: 409, reason: "stale-lease", message: "lease 3 is not current"),
        {
            var compressed = BundleFrame(path: path("a/c/2"), version: version, checksum: someChecksum, mode: 0o600, length: 5_000)
            compressed.encoding = WireEncoding(shuffle: 2)
            return compressed
        }(),
    ]
    static let grants: [LeaseGrant] = [
        LeaseGrant(items: [.init(lane: 0, path: path("a/c/0"), operation: .copy, lease: LeaseID(1), size: 4096),
                           .init(lane: LaneID(LaneID.limit - 1), path: path("a/c/1"), operation: .delete, lease: LeaseID(.max), size: 0)], finished: false),
        LeaseGrant(items: [], finished: true),
    ]
    static let requests: [BundleRequest] = [
        BundleRequest(items: [.init(lane: 0, path: path("a/c/0"), lease: LeaseID(1)), .init(lane: 5, path: path("b/0"), lease: LeaseID(.max))]),
    ]

    /// Both paths on `message`, and on every mutation of its JSON.
    private func check<M: ControlMessage & Equatable>(_ message: M) {
        let encoded = JSONValueEncoder.encode(message)
        #expect(message.handWritten == encoded, "\(M.messageName): written by hand \(message.handWritten?.serialized() ?? "nil"), by the encoder \(encoded.serialized())")
        #expect(M.handRead(encoded) == message, "\(M.messageName) read back by hand")
        var mutations = 0
        for mutated in Self.mutations(of: encoded) {
            mutations += 1
            let decoded = try? JSONValueDecoder.decode(M.self, from: mutated, context: M.messageName)
            if let byHand = M.handRead(mutated) {
                #expect(decoded == byHand, "\(M.messageName): the hand took \(mutated.serialized()) as something else than the decoder")
            }
        }
        #expect(mutations > 10)
    }

    /// `value` with one member (at any depth) removed, set to another kind of value,
    /// or repeated with another value after it.
    static func mutations(of value: JSONValue) -> [JSONValue] {
        let others: [JSONValue] = [.null, .bool(true), .string("x"), .string("0"), .number("-1"), .number("1.5"), .number("4294967296"),
                                   .number("99999999999999999999"), .number("1048576"), .number("600"), .number("200"), .number("0"),
                                   .array([]), .object([]), .string("../x"), .string("1:2:3:4"), .string(String(repeating: "f", count: 32)),
                                   .string("copied"), .string("failed"), .string("delete"), .string("777")]
        switch value {
        case .object(let members):
            var out: [JSONValue] = []
            for i in members.indices {
                var removed = members
                removed.remove(at: i)
                out.append(.object(removed))
                for other in others {
                    var replaced = members
                    replaced[i].value = other
                    out.append(.object(replaced))
                    out.append(.object(members + [(members[i].key, other)]))
                }
                for inner in mutations(of: members[i].value).prefix(400) {
                    var nested = members
                    nested[i].value = inner
                    out.append(.object(nested))
                }
            }
            return out
        case .array(let elements):
            guard let first = elements.first else { return [] }
            return mutations(of: first).map { .array([$0] + elements.dropFirst()) } + [.array(elements + elements)]
        default:
            return []
        }
    }

    @Test("Acks: the same JSON, the same value, nothing the decoder refuses", arguments: acks)
    func ack(_ message: AckReport) { check(message) }

    @Test("Bundle frames: the same JSON, the same value, nothing the decoder refuses", arguments: frames)
    func frame(_ message: BundleFrame) { check(message) }

    @Test("Lease grants: the same JSON, the same value, nothing the decoder refuses", arguments: grants)
    func grant(_ message: LeaseGrant) { check(message) }

    @Test("Bundle requests: the same JSON, the same value, nothing the decoder refuses", arguments: requests)
    func request(_ message: BundleRequest) { check(message) }
}
