import Logging
import SoftcopyCore
import SoftcopyHTTP
import SoftcopyIO

extension Agent {
    /// Aborts the multipart uploads under the store's prefix that began before this
    /// process started (or in the second it did: the server writes whole seconds, and this
    /// process begins none before a job is attached): they belong to an agent that crashed mid-upload, will never be
    /// completed, and hold their parts' space until aborted. Nothing of them was ever
    /// visible. Run once, before any job is attached; a server that does not answer yet
    /// leaves them for the next start.
    func abortLeftoverUploads(startedAt started: String) {
        guard let settings = configuration.objectStore, let clients = objectClients else { return }
        clients.with { s3 in
            do throws(S3Error) {
                let leftovers = try s3.pendingUploads(prefix: settings.location.prefix).filter { $0.initiated.prefix(19) <= started.prefix(19) }
                for upload in leftovers { try s3.abortMultipartUpload(upload.key, uploadId: upload.uploadId) }
                if !leftovers.isEmpty {
                    logger.info("aborted \(leftovers.count) multipart uploads an earlier agent left unfinished in \(settings.location) (first: \(leftovers[0].key))")
                }
            } catch {
                logger.warning("cannot look for unfinished multipart uploads in \(settings.location): \(error)")
            }
        }
    }
}
