import Glibc
import NIOSSL

/// TLS for a server, from PEM files (`--tls-cert`, `--tls-key`): the certificate chain,
/// leaf first, and its private key. TLS 1.2 at least; clients are not asked for
/// certificates (the shared token says who may do what).
public struct ServerTLS: Sendable {
    let context: NIOSSLContext
    public let certificateFile: String

    public init(certificateFile: String, keyFile: String) throws(TLSSetupError) {
        try Self.checkReadable(certificateFile, what: "TLS certificate")
        try Self.checkReadable(keyFile, what: "TLS private key")
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificateFile)
        } catch {
            throw TLSSetupError("cannot load the TLS certificate \(certificateFile): \(error) (expected PEM, leaf first)")
        }
        guard !chain.isEmpty else { throw TLSSetupError("no certificate in \(certificateFile) (expected PEM, leaf first)") }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: keyFile, format: .pem)
        } catch {
            throw TLSSetupError("cannot load the TLS private key \(keyFile): \(error) (expected an unencrypted PEM key)")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        do {
            context = try NIOSSLContext(configuration: configuration)
        } catch {
            throw TLSSetupError("cannot use \(certificateFile) with \(keyFile): \(error) (does the key belong to the certificate?)")
        }
        self.certificateFile = certificateFile
    }

    /// The file's own errno (missing, not allowed) says more than the TLS library would.
    private static func checkReadable(_ path: String, what: String) throws(TLSSetupError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw TLSSetupError("cannot read the \(what) \(path): \(String(cString: strerror(errno)))") }
        close(fd)
    }
}

/// A TLS certificate or key that cannot be used, with the file and the reason.
public struct TLSSetupError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
