import Testing
@testable import SoftcopyCore

@Suite("Wire compression: the per-chunk decision, the link meter, the codecs read from zarr metadata")
struct WirePolicyTests {
    typealias Policy = WireCompressionPolicy

    static let slow = Policy.Request(accepts: true, linkRate: 12.5e6)  // 100 Mbit/s
    static let fast = Policy.Request(accepts: true, linkRate: 2e9)     // loopback

    @Test("auto compresses raw chunks over a slow link only; never never does; always does whatever the codecs and link")
    func decisions() {
        var gain = CompressionGain()
        #expect(Policy.encoding(mode: .auto, request: Self.slow, rawItemSize: 2, gain: &gain) == WireEncoding(shuffle: 2))
        #expect(Policy.encoding(mode: .auto, request: Self.fast, rawItemSize: 2, gain: &gain) == nil, "a fast link: compressing costs more than it saves")
        #expect(Policy.encoding(mode: .auto, request: .init(accepts: true, linkRate: nil), rawItemSize: 2, gain: &gain) == WireEncoding(shuffle: 2),
                "not measured yet: compressed, so a slow link's first burst does not queue raw")
        #expect(Policy.encoding(mode: .auto, request: .init(accepts: true, linkRate: nil), rawItemSize: nil, gain: &gain) == nil)
        #expect(Policy.encoding(mode: .auto, request: Self.slow, rawItemSize: nil, gain: &gain) == nil, "the codecs compress already")
        #expect(Policy.encoding(mode: .auto, request: .init(accepts: false, linkRate: 1e6), rawItemSize: 2, gain: &gain) == nil, "an agent that does not decode")
        #expect(Policy.encoding(mode: .never, request: Self.slow, rawItemSize: 2, gain: &gain) == nil)
        #expect(Policy.encoding(mode: .always, request: Self.fast, rawItemSize: nil, gain: &gain) == WireEncoding(shuffle: 1))
        #expect(Policy.encoding(mode: .always, request: Self.fast, rawItemSize: 4, gain: &gain) == WireEncoding(shuffle: 4))
        #expect(Policy.encoding(mode: .always, request: .init(accepts: false, linkRate: nil), rawItemSize: 4, gain: &gain) == nil)
    }

    @Test("Chunks that stop shrinking are compressed only one in 32, until they shrink again")
    func gainLearns() {
        var gain = CompressionGain()
        for _ in 0..<30 { gain.record(raw: 1000, wire: 1000) }
        var tried = 0
        for _ in 0..<64 where Policy.encoding(mode: .auto, request: Self.slow, rawItemSize: 2, gain: &gain) != nil { tried += 1 }
        #expect(tried == 2)
        for _ in 0..<30 { gain.record(raw: 1000, wire: 500) }
        #expect(Policy.encoding(mode: .auto, request: Self.slow, rawItemSize: 2, gain: &gain) != nil)
        #expect(abs(gain.ratio - 0.5) < 0.05)
    }

    @Test("The link meter counts the union of overlapping transfers, not their sum, and forgets old ones")
    func linkMeter() {
        var meter = LinkMeter()
        let t0 = MonotonicInstant(nanoseconds: 10_000_000_000)
        #expect(meter.rate(now: t0) == nil)
        // Two 1 MB bodies at once over the same second: 2 MB/s, not 1 MB/s each summed as 2 s.
        meter.record(bytes: 1_000_000, start: t0, end: t0 + .seconds(1))
        meter.record(bytes: 1_000_000, start: t0, end: t0 + .seconds(1))
        #expect(meter.rate(now: t0 + .seconds(1)).map { abs($0 - 2e6) < 1 } == true)
        // An idle gap does not count: a third second-long body after a pause.
        meter.record(bytes: 1_000_000, start: t0 + .seconds(2), end: t0 + .seconds(2.5))
        #expect(meter.rate(now: t0 + .seconds(2.5)).map { abs($0 - 2e6) < 1 } == true)
        // Small bodies say nothing of the link.
        meter.record(bytes: 1_000, start: t0 + .seconds(2.5), end: t0 + .seconds(2.6))
        #expect(meter.rate(now: t0 + .seconds(2.6)).map { abs($0 - 2e6) < 1 } == true)
        #expect(meter.rate(now: t0 + .seconds(10)) == nil, "older than the window")
    }

    @Test("Over a slow link a lease asks for what the link carries in 100 ms (at least 1 MiB); unmeasured or fast, the usual limit")
    func batchBytes() {
        #expect(LinkMeter.batchBytes(rate: nil, limit: 64 << 20) == 64 << 20)
        #expect(LinkMeter.batchBytes(rate: 2e9, limit: 64 << 20) == 64 << 20)
        #expect(LinkMeter.batchBytes(rate: 117e6, limit: 64 << 20) == 11_700_000)
        #expect(LinkMeter.batchBytes(rate: 1e6, limit: 64 << 20) == 1 << 20)
    }

    @Test("The encoding header: zstd with an optional shuffle; anything else is not decoded")
    func header() {
        #expect(WireEncoding(header: "zstd") == WireEncoding(shuffle: 1))
        #expect(WireEncoding(header: "zstd;shuffle=2") == WireEncoding(shuffle: 2))
        #expect(WireEncoding(header: "zstd; shuffle=8")?.description == "zstd;shuffle=8")
        for bad in ["gzip", "zstd;shuffle=0", "zstd;shuffle=17", "zstd;level=3", "", "zstdx"] {
            #expect(WireEncoding(header: bad) == nil, "\(bad)")
        }
    }

    @Test("Raw chunks and their element size are read from v2 and v3 metadata; any compressor or unknown codec is not raw")
    func rawChunks() throws {
        func v3(_ codecs: String, type: String = "uint16") throws -> Int? {
            let text = """
            {"zarr_format":3,"node_type":"array","shape":[4,64],"data_type":"\(type)","chunk_grid":{"name":"regular","configuration":{"chunk_shape":[1,64]}},
             "chunk_key_encoding":{"name":"default"},"fill_value":0,"codecs":\(codecs)}
            """
            guard case .array(let layout) = try ZarrMetadataParser.parse(name: "zarr.json", bytes: Array(text.utf8)) else { return -1 }
            return layout.rawItemSize
        }
        func v2(_ compressor: String, filters: String = "null", dtype: String = "<u2") throws -> Int? {
            let text = """
            {"zarr_format":2,"shape":[4,64],"chunks":[1,64],"dtype":"\(dtype)","compressor":\(compressor),"filters":\(filters),"fill_value":0,"order":"C"}
            """
            guard case .array(let layout) = try ZarrMetadataParser.parse(name: ".zarray", bytes: Array(text.utf8)) else { return -1 }
            return layout.rawItemSize
        }
        #expect(try v3(#"[{"name":"bytes","configuration":{"endian":"little"}}]"#) == 2)
        #expect(try v3(#"[{"name":"transpose","configuration":{"order":[1,0]}},{"name":"bytes"}]"#, type: "float64") == 8)
        #expect(try v3(#"[{"name":"bytes"},{"name":"zstd","configuration":{"level":1}}]"#) == nil)
        #expect(try v3(#"[{"name":"bytes"},{"name":"blosc"}]"#) == nil)
        #expect(try v3(#"[{"name":"sharding_indexed","configuration":{"chunk_shape":[1,32],"codecs":[{"name":"bytes"}],"index_codecs":[{"name":"bytes"},{"name":"crc32c"}]}}]"#) == 2)
        #expect(try v3(#"[{"name":"sharding_indexed","configuration":{"chunk_shape":[1,32],"codecs":[{"name":"bytes"},{"name":"gzip"}],"index_codecs":[{"name":"bytes"}]}}]"#) == nil)
        #expect(try v3(#"[{"name":"bytes"},{"name":"some.future.codec"}]"#) == nil)
        #expect(try v2("null") == 2)
        #expect(try v2("null", dtype: "|u1") == 1)
        #expect(try v2("null", dtype: "<f4") == 4)
        #expect(try v2("null", filters: "[]") == 2)
        #expect(try v2(#"{"id":"zstd","level":1}"#) == nil)
        #expect(try v2("null", filters: #"[{"id":"delta","dtype":"<u2"}]"#) == nil)
    }
}
