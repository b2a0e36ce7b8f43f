import Testing
import SoftcopyCore

@Suite("S3: checksums, locations and listings, without a server")
struct S3Tests {
    @Test("base64 gives the reference values")
    func base64() {
        #expect(Base64.encode([]) == "" && Base64.encode(Array("f".utf8)) == "Zg==" && Base64.encode(Array("fo".utf8)) == "Zm8="
                && Base64.encode(Array("foo".utf8)) == "Zm9v" && Base64.encode(Array("foobar".utf8)) == "Zm9vYmFy")
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
