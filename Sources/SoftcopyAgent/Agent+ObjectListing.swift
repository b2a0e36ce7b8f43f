import Logging
import NIOHTTP1
import SoftcopyCore
import SoftcopyHTTP
import SoftcopyIO

extension Agent {
    /// The listing of a destination in the object store, in the form a folder's has: every
    /// object under `PREFIX/DESTINATION/` (`ListObjectsV2`), with the version and checksum
    /// it was written from, taken from what this process stored (while the object's ETag is
    /// the remembered one) or from the object's metadata (`HEAD`). With `verify`, each
    /// object is read back and hashed instead. `.softcopy/` is left out, as in a folder's.
    func objectListing(_ base: RelativePath, checksums: Bool, verify: Bool) -> HTTPResponse {
        guard let settings = configuration.objectStore, let clients = objectClients else { return .error(.internalServerError, "no object store") }
        let prefix = settings.location.objectName(destination: base.string, key: "") + "/"
        let result = clients.with { s3 -> Result<[ListingEntry], S3Error> in
            do throws(S3Error) {
                var entries: [ListingEntry] = []
                for object in try s3.list(prefix: prefix) {
                    let key = String(object.key.dropFirst(prefix.count))
                    guard !key.hasPrefix(ZarrNaming.stateDirectoryName + "/"), let path = try? RelativePath(validating: key) else { continue }
                    var record: WrittenRecord?
                    var checksum: Checksum?
                    var size = object.size
                    if checksums {
                        record = objectRecords.record(object.key, etag: object.etag)
                        if record == nil { record = try s3.head(object.key).flatMap { ObjectRecords.record(metadata: $0.metadata) } }
                        checksum = record?.checksum
                        if verify {
                            // What the object holds now, record or not (a server may drop
                            // user metadata: it is then listed by its bytes alone).
                            guard let read = try s3.checksum(of: object.key) else { continue }
                            checksum = read.checksum
                            size = read.size
                        }
                    }
                    entries.append(ListingEntry(path: base.appending(path), size: size, checksum: checksum, sourceVersion: record?.version))
                }
                return .success(entries)
            } catch {
                return .failure(error)
            }
        }
        switch result {
        case .success(let entries):
            return .json(text: AgentListing.encode(entries, relativeTo: base, checksums: checksums))
        case .failure(let error):
            logger.warning("cannot list \(settings.location)/\(base): \(error)")
            return .error(error.isTransient ? .serviceUnavailable : .badGateway, "cannot list \(base) in \(settings.location): \(error)")
        }
    }
}
