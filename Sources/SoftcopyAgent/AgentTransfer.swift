import Glibc
import Logging
import SoftcopyCore
import SoftcopyHTTP
import SoftcopyIO

/// Performs one leased item at the agent. A copy streams the chunk's body from the
/// coordinator into a temp file in the final folder, hashing it on the way; it lands
/// under its real name only if its size and XXH3-128 match the headers, after fsync, and
/// never over a newer version of the same file. A deletion removes the file.
struct AgentTransfer {
    let coordinator: String
    let job: String
    let client: HTTPClient
    let keyLocks: KeyLocks
    let root: String
    let reserve: UInt64
    let logger: Logger

    enum Result {
        /// Report this outcome; `changedDirectory` needs an fsync before the ack.
        case done(WorkOutcome, changedDirectory: RelativePath?)
        /// The lease is no longer current: nothing to report.
        case stale
        /// The coordinator ended the job (or restarted): stop pulling.
        case jobGone
    }

    static let stallTimeout: Duration = .seconds(30)

    func perform(_ item: LeaseGrant.Item, tree: DestinationTree) -> Result {
        switch item.operation {
        case .delete:
            do {
                try tree.remove(item.path, syncDirectory: false)
                return .done(.deleted, changedDirectory: item.path.parent)
            } catch {
                return .done(.failed(message: error.description, transient: error.isTransient), changedDirectory: nil)
            }
        case .copy:
            return copy(item, tree: tree)
        }
    }

    /// The failure for a chunk that does not fit above the reserve, or nil if it fits.
    /// Transient: the coordinator places it on another node.
    private func refusalForSpace(_ size: UInt64) -> WorkOutcome? {
        let free = FileSystemSpace.of(root).free
        guard free < reserve || free - reserve < size else { return nil }
        return .failed(message: "insufficient storage (507) on this agent: \(Quantity.formatBytes(free)) free under \(root), reserve \(Quantity.formatBytes(reserve)), chunk \(Quantity.formatBytes(size))", transient: true)
    }

    private func copy(_ item: LeaseGrant.Item, tree: DestinationTree) -> Result {
        if let refused = refusalForSpace(item.size) { return .done(refused, changedDirectory: nil) }
        let pending: PendingFile
        do {
            pending = try tree.beginWrite(item.path)
        } catch {
            return .done(.failed(message: error.description, transient: error.isTransient), changedDirectory: nil)
        }
        let url = coordinator + "/v1/jobs/" + job + "/targets/\(item.target)/files/" + URLCoding.encodePath(item.path.string) + "?lease=\(item.lease.rawValue)"
        let hasher = XXH3Hasher()
        let fd = pending.rawDescriptor
        let display = pending.displayPath
        var received: UInt64 = 0
        var writeError: SystemError?
        let response: HTTPClientResponse
        do {
            response = try client.download(url, stallTimeout: Self.stallTimeout) { bytes in
                do throws(SystemError) {
                    try FileDescriptor.writeAll(fd, bytes, path: display)
                } catch {
                    writeError = error
                    return false
                }
                hasher.update(bytes)
                received &+= UInt64(bytes.count)
                return true
            }
        } catch {
            if let writeError {
                // The temp file is never renamed; dropping `pending` removes it.
                if writeError.errno == ENOSPC || writeError.errno == EDQUOT {
                    return .done(.failed(message: "insufficient storage (507) on this agent: \(writeError)", transient: true), changedDirectory: nil)
                }
                return .done(.failed(message: writeError.description, transient: writeError.isTransient), changedDirectory: nil)
            }
            return .done(.failed(message: "transfer of \(item.path) failed: \(error.message)", transient: true), changedDirectory: nil)
        }
        switch response.status {
        case 200: break
        case 404 where response.header(SoftcopyHeaders.reason) == "vanished": return .done(.sourceVanished, changedDirectory: nil)
        case 409 where response.header(SoftcopyHeaders.reason) == "changed": return .done(.changedWhileReading, changedDirectory: nil)
        case 409: return .stale
        case 410: return .jobGone
        default:
            let transient = response.status >= 500 || response.status == 429 || response.status == 408
            return .done(.failed(message: "the coordinator answered \(response.status) for \(item.path): \(response.bodyText)", transient: transient), changedDirectory: nil)
        }
        guard let version = response.header(SoftcopyHeaders.version).flatMap({ FileVersion(token: $0) }),
              let expected = response.header(SoftcopyHeaders.checksum).flatMap({ Checksum(hex: $0) }) else {
            return .done(.failed(message: "the coordinator sent \(item.path) without a valid \(SoftcopyHeaders.version) and \(SoftcopyHeaders.checksum)", transient: true), changedDirectory: nil)
        }
        let checksum = hasher.digest()
        guard received == version.size, checksum == expected else {
            // Never renamed: dropping `pending` removes the temp file.
            logger.warning("\(item.path): received \(received) of \(version.size) bytes, checksum \(checksum.hex), expected \(expected.hex); discarded, it will be sent again")
            return .done(.failed(message: "checksum or size mismatch on arrival (\(received) of \(version.size) bytes)", transient: true), changedDirectory: nil)
        }
        let mode = response.header(SoftcopyHeaders.mode).flatMap { UInt32($0, radix: 8) } ?? 0o644
        do {
            try pending.setAttribute(WrittenRecord.attributeName, WrittenRecord(version: version, checksum: checksum).bytes)
        } catch {
            logger.debug("cannot record the source version on \(item.path): \(error)")
        }
        do {
            try pending.finish(mode: mode, modificationTime: version.mtimeNanoseconds)
        } catch {
            return .done(.failed(message: error.description, transient: error.isTransient), changedDirectory: nil)
        }
        let key = tree.displayPath(item.path)
        keyLocks.acquire(key)
        defer { keyLocks.release(key) }
        if let existing = Self.record(at: item.path, in: tree), version.isOlder(than: existing.version) {
            return .done(.failed(message: "a newer version of \(item.path) is already here", transient: true), changedDirectory: nil)
        }
        do {
            let status = try pending.commit(syncDirectory: false)
            return .done(.copied(version: version, checksum: checksum, destinationInode: status.version.inode, bytesWritten: received),
                         changedDirectory: item.path.parent)
        } catch {
            return .done(.failed(message: error.description, transient: error.isTransient), changedDirectory: nil)
        }
    }

    /// The record on the file now at `path`, if it has a valid one.
    static func record(at path: RelativePath, in tree: DestinationTree) -> WrittenRecord? {
        guard let fd = try? tree.openForReading(path), let status = try? fd.status() else { return nil }
        return WrittenRecord.current(on: fd, status: status)
    }
}
