import Testing
import SoftcopyCore

@Suite("S3: checksums, locations and listings, without a server")
struct S3Tests {
    @Test("CRC-32C and base64 give the reference values")
    func checksums() {
        #expect(CRC32C.of(Array("123456789".utf8)).value == 0xE306_9283)
        #expect(CRC32C.of([]).value == 0)
        #expect(CRC32C.of(Array("123456789".utf8)).base64 == "4waSgw==")
        #expect(Base64.encode([]) == "" && Base64.encode(Array("f".utf8)) == "Zg==" && Base64.encode(Array("fo".utf8)) == "Zm8="
                && Base64.encode(Array("foo".utf8)) == "Zm9v" && Base64.encode(Array("foobar".utf8)) == "Zm9vYmFy")
        var split = CRC32C()
        Array("1234".utf8).withUnsafeBytes { split.update($0) }
        Array("56789".utf8).withUnsafeBytes { split.update($0) }
        #expect(split.value == 0xE306_9283, "piece by piece is the same")
        // Eight bytes a step, against the bit-by-bit definition, at every length and alignment.
        func reference(_ bytes: ArraySlice<UInt8>) -> UInt32 {
            var c: UInt32 = 0xFFFF_FFFF
            for b in bytes {
                c ^= UInt32(b)
                for _ in 0..<8 { c = c & 1 == 1 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
            }
            return c ^ 0xFFFF_FFFF
        }
        var generator = SplitMix(seed: 7)
        let data = (0..<300).map { _ in UInt8.random(in: 0...255, using: &generator) }
        for start in 0..<9 {
            for length in [0, 1, 7, 8, 9, 15, 16, 17, 64, 200] {
                let slice = data[start..<(start + length)]
                var c = CRC32C()
                slice.withUnsafeBytes { c.update($0) }
                #expect(c.value == reference(slice), "\(start) \(length)")
            }
        }
    }

    @Test("an s3:// location: bucket and prefix, object names under it, and bad ones named")
    func location() throws {
        let l = try S3Location(parsing: "s3://lab-data/microscope//2026/")
        #expect(l.bucket == "lab-data" && l.prefix == "microscope/2026")
        #expect(l.objectName(destination: "acq.zarr", key: "c/0/0") == "microscope/2026/acq.zarr/c/0/0")
        #expect(try S3Location(parsing: "s3://bkt").objectName(destination: "a.zarr", key: "zarr.json") == "a.zarr/zarr.json")
        for bad in ["http://x/y", "s3://", "s3://ab", "s3://Upper", "s3://-dash", "s3://b_u", "s3://bucket/../x"] {
            #expect(throws: ConfigMessage.self, "\(bad)") { try S3Location(parsing: bad) }
        }
    }

    @Test("a ListObjectsV2 page: keys (entities decoded), sizes, ETags without quotes, and the next page's token")
    func listing() throws {
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>a/</Prefix><IsTruncated>true</IsTruncated>\
            <Contents><Key>a/x &amp; y&#38;&lt;z&gt;</Key><ETag>&#34;abc&#34;</ETag><Size>5</Size></Contents>\
            <Contents><Key>a/caf\u{E9}</Key><ETag>"d-2"</ETag><Size>0</Size></Contents>\
            <NextContinuationToken>tok/+=</NextContinuationToken></ListBucketResult>
            """
        let page = try S3ObjectList(xml: Array(xml.utf8))
        #expect(page.objects == [.init(key: "a/x & y&<z>", size: 5, etag: "abc"), .init(key: "a/caf\u{E9}", size: 0, etag: "d-2")])
        #expect(page.continuationToken == "tok/+=")
        let last = try S3ObjectList(xml: Array("<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>".utf8))
        #expect(last.objects.isEmpty && last.continuationToken == nil)
        #expect(throws: ProtocolError.self) { try S3ObjectList(xml: Array("<Error><Code>AccessDenied</Code></Error>".utf8)) }
        #expect(throws: ProtocolError.self) { try S3ObjectList(xml: Array("<ListBucketResult><Contents><Key>k</Key></Contents></ListBucketResult>".utf8)) }
    }
}
