import Glibc
import Logging
import NIOCore
import NIOHTTP1
import Synchronization
import SoftcopyCore
import SoftcopyHTTP
import SoftcopyIO

extension Agent {
    /// `POST /v1/remove`: removes copies of keys whose current copy is elsewhere. The job
    /// that holds the destination may remove whatever is at a key (its coordinator knows
    /// the record names another node); without a job (`verify --repair`), only while no
    /// job holds the destination, and only the very copy the request names.
    func remove(_ request: HTTPRequest) -> HTTPResponse {
        let removal: RemovalRequest
        let relative: RelativePath
        do {
            removal = try RemovalRequest(body: request.bodyBytes)
            relative = try JobAttachment.resolve(destination: removal.destination, root: configuration.root)
        } catch {
            return .error(.badRequest, error.message)
        }
        let holder = holder(of: relative, except: "")
        if let job = removal.job {
            guard let holder, holder.attachment.job == job else {
                return .error(.conflict, "job \(job) does not hold \(removal.destination) here\(holder.map { " (job \($0.attachment.job) does)" } ?? "")")
            }
        } else if let holder {
            return .error(.conflict, "\(removal.destination) is in use by job \(holder.attachment.job) of the coordinator at \(holder.attachment.coordinator); that run removes superseded copies itself")
        }
        let tree: DestinationTree
        do {
            tree = try dataRoot.current().get().subtree(relative, create: false)
        } catch let problem as AgentRoot.RootProblem {
            return .error(.serviceUnavailable, problem.message)
        } catch let error as SystemError where error.isNotFound {
            return .json(RemovalReport(absent: removal.items.map(\.path)).json)
        } catch {
            return .error(.forbidden, "cannot open \(removal.destination) under \(configuration.root): \(error)")
        }
        // Without a job: not while anyone writes there, here or (a local run) elsewhere.
        var lock: DestinationLock?
        if removal.job == nil {
            do {
                lock = try DestinationLock.acquire(tree, holder: "softcopy-agent \(configuration.name) (pid \(getpid())), removing superseded copies for verify --repair")
            } catch {
                return .error(.conflict, "\(removal.destination) is in use: \(error)")
            }
        }
        defer { withExtendedLifetime(lock) {} }
        if configuration.objectStore != nil { return removeObjects(removal, destination: relative) }
        var report = RemovalReport()
        var unlinked: [RelativePath] = []
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)
        defer { buffer.deallocate() }
        for item in removal.items {
            let key = tree.displayPath(item.path)
            keyLocks.acquire(key)
            defer { keyLocks.release(key) }
            do {
                guard let fd = try tree.openForReading(item.path) else {
                    report.absent.append(item.path)
                    continue
                }
                let status = try fd.status()
                guard status.kind == .regular else {
                    report.kept.append(.init(path: item.path, reason: "not a regular file"))
                    continue
                }
                if let size = item.size, let checksum = item.checksum {
                    let recorded = WrittenRecord.current(on: fd, status: status)?.checksum
                    let current = try recorded ?? fd.checksum(buffer: buffer, path: key).checksum
                    guard status.version.size == size, current == checksum else {
                        report.kept.append(.init(path: item.path, reason: "it changed since it was listed"))
                        continue
                    }
                }
                if try tree.remove(item.path, syncDirectory: false) {
                    unlinked.append(item.path)
                } else {
                    report.absent.append(item.path)
                }
            } catch {
                report.kept.append(.init(path: item.path, reason: "\(error)"))
            }
        }
        // Durable before it is reported: a removal lost to a power cut would be a
        // superseded copy that nobody lists any more.
        let (durable, failed) = tree.syncRemovals(unlinked)
        report.removed = durable
        report.kept += failed.map { .init(path: $0.0, reason: "removed, but not durably: \($0.1)") }
        if !report.removed.isEmpty {
            logger.info("removed \(report.removed.count) superseded copies under \(tree.rootPath)\(removal.job.map { " for job \($0)" } ?? " (verify --repair)")")
        }
        return .json(report.json)
    }
}
