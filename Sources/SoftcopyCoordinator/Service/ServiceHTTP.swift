import Logging
import Synchronization
import SoftcopyCore
import SoftcopyHTTP
import SoftcopyIO

/// The coordinator's one HTTP server and its responder (`ServiceAPI`), made by the
/// service from the settings of the first job (or of the targets file, for a service of
/// watched folders): `listen`, `token_file`, `tls_cert`/`tls_key`.
public final class ServiceHTTP: Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public static let defaultListen = "0.0.0.0:7480"

    let server: HTTPServer
    let api: ServiceAPI
    let token: String?

    init(settings: CoordinatorSettings, logger: Logger, view: ServiceView) throws(Failure) {
        let token: String?
        do {
            token = try TokenFile.read(optional: settings.tokenFile)
        } catch {
            throw Failure(description: error.description)
        }
        var tls: ServerTLS?
        if let certificate = settings.tlsCertificate, let key = settings.tlsKey {
            do {
                tls = try ServerTLS(certificateFile: certificate, keyFile: key)
            } catch {
                throw Failure(description: error.description)
            }
        }
        let listen = settings.listen ?? Self.defaultListen
        guard let (host, port) = AgentAddress.hostAndPort(listen) else {
            throw Failure(description: "cannot listen on \(listen): expected HOST:PORT")
        }
        let built = Built()
        let make = { (port: Int) throws -> HTTPServer in
            try HTTPServer(host: host, port: port, tls: tls, logger: logger) { pool, eventLoop in
                let api = ServiceAPI(token: token, pool: pool, eventLoop: eventLoop, logger: logger, view: view)
                built.api.withLock { $0 = api }
                return api
            }
        }
        do {
            server = try make(port)
        } catch {
            // Another coordinator has the default port: agents learn the port when they
            // are attached, and the log names the dashboard's.
            guard settings.listen == nil, let fallback = try? make(0) else {
                throw Failure(description: "cannot listen on \(listen): \(error)")
            }
            logger.info("port \(port) is taken (another coordinator?); listening on port \(fallback.port) instead")
            server = fallback
        }
        guard let api = built.api.withLock({ $0 }) else { throw Failure(description: "internal: the HTTP server made no responder") }
        self.api = api
        self.token = token
        logger.info("coordinator API listening on \(server.scheme)://\(host):\(server.port) (the dashboard is at \(server.scheme)://\(host == "0.0.0.0" ? Clock.hostName() : host):\(server.port)/)")
    }

    /// The responder, handed from the server's event loop to the service.
    private final class Built: Sendable {
        let api = Mutex<ServiceAPI?>(nil)
    }
}
