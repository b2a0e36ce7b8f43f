import SoftcopyAgent
import SoftcopyCore
import SoftcopyIO

/// One source file opened for the local copy, read once: into the job's writer, hashed on
/// the way. The checksum is of the bytes read, and where they landed is read back and
/// compared before the rename (`FolderStore.readBack`).
final class SourceRead: ItemReader {
    private let source: SourceFile
    private let requireStableRead: Bool
    private let rateLimiter: RateLimiter?
    /// Where SHA-256 and MD5 go when `checksums:` asks: the store, and this file's root and path.
    private let digests: (store: ContentDigests, root: String, path: RelativePath)?

    init(_ source: consuming SourceFile, requireStableRead: Bool, rateLimiter: RateLimiter?,
         digests: (store: ContentDigests, root: String, path: RelativePath)? = nil) {
        self.source = source
        self.requireStableRead = requireStableRead
        self.rateLimiter = rateLimiter
        self.digests = digests
    }

    func read(into writer: ChunkWriter, hasher: XXH3Hasher) -> Fetched {
        let version = source.status.version
        var offset: Int64 = 0
        let extra = digests?.store.hashers() ?? []
        do throws(SystemError) {
            while true {
                var readError: SystemError?
                let n: Int
                do throws(SystemError) {
                    n = try writer.fill { free throws(SystemError) in
                        do throws(SystemError) {
                            let n = try self.source.read(into: free, at: offset)
                            hasher.update(UnsafeRawBufferPointer(rebasing: free[..<n]))
                            for h in extra { h.update(UnsafeRawBufferPointer(rebasing: free[..<n])) }
                            return n
                        } catch {
                            readError = error
                            throw error
                        }
                    }
                } catch {
                    // The source's error is the item's failure; the writer's is the destination's.
                    if let readError { return .done(.failed(message: readError.description, transient: readError.isTransient)) }
                    return .writeFailed(error)
                }
                if n == 0 { break }
                rateLimiter?.consume(UInt64(n))
                offset += Int64(n)
                // The whole opened version is read: no read to find the end. A file that
                // grew or shrank meanwhile is a changed file, as the agents' reader says.
                if offset >= Int64(version.size) { break }
            }
            let changed = try source.changedSinceOpen(checkPath: requireStableRead)
            if UInt64(offset) != version.size || changed {
                return .done(.changedWhileReading)  // the temp file is removed with its pending file
            }
        } catch {
            return .done(.failed(message: error.description, transient: error.isTransient))
        }
        let checksum = hasher.digest()
        if let digests, !extra.isEmpty { digests.store.record(root: digests.root, path: digests.path, checksum: checksum, extra) }
        return .bytes(version: version, checksum: checksum, mode: source.status.mode & 0o7777, received: UInt64(offset))
    }
}
