import Logging
import NIOHTTP1
import SoftcopyCore
import SoftcopyHTTP
import SoftcopyIO

extension Agent {
    /// `POST /v1/remove` for an agent whose store is a bucket: each named object is
    /// deleted, under its key's lock, only while it is the very copy the request names
    /// (its size, and its checksum from its metadata, or from its bytes where it has none).
    /// A `DELETE` the server acknowledged is durable.
    func removeObjects(_ removal: RemovalRequest, destination: RelativePath) -> HTTPResponse {
        guard let settings = configuration.objectStore, let clients = objectClients else { return .error(.internalServerError, "no object store") }
        var report = RemovalReport()
        clients.with { s3 in
            for item in removal.items {
                let name = settings.location.objectName(destination: destination.string, key: item.path.string)
                keyLocks.acquire(name)
                defer { keyLocks.release(name) }
                do throws(S3Error) {
                    guard let head = try s3.head(name) else {
                        report.absent.append(item.path)
                        continue
                    }
                    if let size = item.size, let checksum = item.checksum {
                        var current = ObjectRecords.record(metadata: head.metadata)?.checksum
                        if current == nil { current = try s3.checksum(of: name)?.checksum }
                        guard head.size == size, current == checksum else {
                            report.kept.append(.init(path: item.path, reason: "it changed since it was listed"))
                            continue
                        }
                    }
                    try s3.delete(name)
                    bucketUsage?.removed(head.size)
                    objectRecords.forget(name)
                    report.removed.append(item.path)
                } catch {
                    report.kept.append(.init(path: item.path, reason: "\(error)"))
                }
            }
        }
        if !report.removed.isEmpty {
            logger.info("removed \(report.removed.count) superseded copies from \(settings.location)/\(destination)\(removal.job.map { " for job \($0)" } ?? " (verify --repair)")")
        }
        return .json(report.json)
    }
}
