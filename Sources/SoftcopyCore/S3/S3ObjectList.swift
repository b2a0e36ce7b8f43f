/// One page of `ListObjectsV2`: the objects under a prefix, and where the next page starts.
public struct S3ObjectList: Sendable, Equatable {
    public struct Object: Sendable, Equatable {
        public var key: String
        public var size: UInt64
        /// Without its quotes. For a single PUT, the MD5 of the body; for a multipart
        /// upload, the MD5 of the parts' MD5s and `-N`.
        public var etag: String

        public init(key: String, size: UInt64, etag: String) {
            self.key = key
            self.size = size
            self.etag = etag
        }
    }

    public var objects: [Object]
    /// Set when more objects follow: ask again with it.
    public var continuationToken: String?

    public init(xml bytes: [UInt8]) throws(ProtocolError) {
        let document = S3XML(bytes)
        guard !document.children("ListBucketResult").isEmpty else {
            throw ProtocolError("the object listing is not a ListBucketResult: \(String(decoding: bytes.prefix(200), as: UTF8.self))")
        }
        objects = []
        for entry in document.children("Contents") {
            guard let key = entry.value("Key"), let size = entry.value("Size").flatMap({ UInt64($0) }) else {
                throw ProtocolError("an object of the listing has no Key or Size")
            }
            let etag = entry.value("ETag") ?? ""
            objects.append(Object(key: key, size: size, etag: String(etag.drop { $0 == "\"" }.reversed().drop { $0 == "\"" }.reversed())))
        }
        continuationToken = document.value("IsTruncated") == "true" ? document.value("NextContinuationToken") : nil
    }
}
