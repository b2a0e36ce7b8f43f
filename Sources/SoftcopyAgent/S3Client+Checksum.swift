import SoftcopyCore
import SoftcopyHTTP
import SoftcopyIO

extension S3Client {
    /// The XXH3-128 and size of `key`'s bytes as the server holds them now, hashed as
    /// they stream (a shard of gigabytes is never held whole); nil when there is no such
    /// object.
    func checksum(of key: String) throws(S3Error) -> (checksum: Checksum, size: UInt64)? {
        let hasher = XXH3Hasher()
        var status = 0
        do throws(S3Error) {
            let response = try download(key, onHead: { code, _ in
                status = code
                return code == 200
            }, sink: { bytes in
                hasher.update(bytes)
                return true
            })
            guard response.status == 200 else { throw S3Error(status: response.status, code: "", message: "answered \(response.status)", request: "GET s3://\(bucket)/\(key)") }
            return (hasher.digest(), response.bodyBytes)
        } catch {
            if status == 404 { return nil }
            throw error
        }
    }
}
