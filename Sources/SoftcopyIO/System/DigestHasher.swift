import CCrypto
public import SoftcopyCore

/// Streaming SHA-256 or MD5 (OpenSSL's libcrypto, which uses the CPU's SHA extensions
/// where it has them): fed the same pieces as the XXH3 hasher where a file's bytes are
/// read, so the extra checksum lists cost no second read.
public final class DigestHasher {
    public let algorithm: ChecksumAlgorithm
    private let context: OpaquePointer

    /// nil for XXH3-128, which `XXH3Hasher` computes.
    public init?(_ algorithm: ChecksumAlgorithm) {
        let md: OpaquePointer?
        switch algorithm {
        case .sha256: md = EVP_sha256()
        case .md5: md = EVP_md5()
        case .xxh128: return nil
        }
        guard let md, let context = EVP_MD_CTX_new() else { return nil }
        guard EVP_DigestInit_ex(context, md, nil) == 1 else {
            EVP_MD_CTX_free(context)
            return nil
        }
        self.algorithm = algorithm
        self.context = context
    }

    deinit {
        EVP_MD_CTX_free(context)
    }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        EVP_DigestUpdate(context, bytes.baseAddress, bytes.count)
    }

    /// The digest as lowercase hex; the hasher is spent.
    public func finish() -> String {
        Self.hex(finishBytes())
    }

    /// Bytes as lowercase hex, the form `sha256sum` prints and S3 signs.
    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] }, as: UTF8.self)
    }

    /// The digest's bytes (`Content-MD5` carries them in base64); the hasher is spent.
    public func finishBytes() -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 64)
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context, &digest, &length)
        return Array(digest.prefix(Int(length)))
    }

    /// The digest of `bytes` with `algorithm` (SHA-256 or MD5), as bytes.
    public static func digest(_ algorithm: ChecksumAlgorithm, of bytes: [UInt8]) -> [UInt8] {
        guard let hasher = DigestHasher(algorithm) else { return [] }
        bytes.withUnsafeBytes { hasher.update($0) }
        return hasher.finishBytes()
    }
}
