package import SoftcopyCore
package import SoftcopyIO
import Glibc
import SoftcopyHTTP

/// A destination in an S3 bucket: each key becomes the object `PREFIX/DESTINATION/KEY`.
/// A file is received and checked in a temp file of the local staging folder (the
/// destination's folder under the agent's root, which also keeps `.softcopy/`), then, at
/// `commit`, read back, hashed again and PUT with its SHA-256 (signed), MD5 and CRC-32C,
/// which the server verifies: an object never holds bytes other than the checked ones.
/// The source version and checksum go into the object's metadata. A version older than
/// the one in the bucket is never written over it (checked with `HEAD` under the key's
/// lock; see docs/object-storage.md for what a bucket cannot guarantee).
package struct ObjectStore: Store {
    let tree: DestinationTree
    let location: S3Location
    let destination: RelativePath
    let clients: ClientPool<S3Client>
    let records: ObjectRecords
    /// Kept current when a quota is set.
    let usage: BucketUsage?
    let keyLocks: KeyLocks
    /// Files larger than this go in parts of this size (S3's parts are 5 MiB at least).
    let multipartThreshold: Int

    init(tree: DestinationTree, location: S3Location, destination: RelativePath, clients: ClientPool<S3Client>,
         records: ObjectRecords, usage: BucketUsage?, keyLocks: KeyLocks, multipartThreshold: Int) {
        self.usage = usage
        self.multipartThreshold = multipartThreshold
        self.tree = tree
        self.location = location
        self.destination = destination
        self.clients = clients
        self.records = records
        self.keyLocks = keyLocks
    }

    func objectName(_ path: RelativePath) -> String {
        location.objectName(destination: destination.string, key: path.string)
    }

    package func beginWrite(_ path: RelativePath, size: UInt64) throws(SystemError) -> PendingFile {
        try tree.beginWrite(path, direct: false)
    }

    package func stage(_ pending: consuming PendingFile, path: RelativePath, version: FileVersion, checksum: Checksum,
                       received: UInt64, mode: UInt32, buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> Result<StagedWrite, StageMismatch> {
        try pending.settle(mode: mode, modificationTime: version.mtimeNanoseconds, size: received)
        return .success(StagedWrite(file: try StagedFile(pending, path: path), version: version, checksum: checksum, bytes: received, recorded: false))
    }

    /// Uploads each staged file; its temp file goes once the batch is done.
    package func commit(_ staged: [StagedWrite], removals: Set<RelativePath>)
        -> (outcomes: [WorkOutcome], failedDirectories: [RelativePath: SystemError], noSpace: SystemError?) {
        // Side by side (one upload waits on the network most of the time); each iteration
        // touches only its own file.
        nonisolated(unsafe) let files = staged
        let outcomes = Parallel.map(files.count) { i -> WorkOutcome in upload(files[i]) }
        return (outcomes.map { $0.get() }, [:], nil)
    }

    private func upload(_ file: StagedWrite) -> WorkOutcome {
        let name = objectName(file.file.path)
        keyLocks.acquire(name)
        defer { keyLocks.release(name) }
        let metadata = [(ObjectRecords.versionMetadata, file.version.token), (ObjectRecords.checksumMetadata, file.checksum.hex)]
        return clients.with { s3 -> WorkOutcome in
            do {
                let present = try s3.head(name)
                if let stored = present.flatMap({ ObjectRecords.record(metadata: $0.metadata) }), file.version.isOlder(than: stored.version) {
                    return .failed(message: "a newer version of \(file.file.path) is already in \(location.bucket)", transient: true)
                }
                let etag: String
                if file.bytes > UInt64(multipartThreshold) {
                    etag = try uploadInParts(file, name: name, metadata: metadata, s3: s3)
                } else {
                    let bytes = try file.file.read(size: Int(file.bytes) + 1)
                    // What is uploaded is what was checked as it arrived.
                    guard UInt64(bytes.count) == file.bytes, XXH3Hasher.checksum(bytes) == file.checksum else { throw Self.changed(file) }
                    etag = try s3.put(name, bytes, metadata: metadata)
                }
                records.remember(name, etag: etag, WrittenRecord(version: file.version, checksum: file.checksum))
                usage?.stored(file.bytes, replacing: present?.size)
                return .copied(version: file.version, checksum: file.checksum, destinationInode: 0, bytesWritten: file.bytes)
            } catch let error as S3Error {
                return .failed(message: error.description, transient: error.isTransient)
            } catch let error as SystemError {
                return .failed(message: "cannot read the staged copy \(file.file.displayPath): \(error)", transient: error.isTransient)
            } catch {
                return .failed(message: "\(error)", transient: true)
            }
        }
    }

    /// A large file in parts of `multipartThreshold` bytes, read one at a time from the
    /// staged file and hashed on the way; the upload is completed only when the whole
    /// hashes to the checked checksum, and aborted on any failure (nothing of it is then
    /// visible, and its parts are freed).
    private func uploadInParts(_ file: StagedWrite, name: String, metadata: [(String, String)], s3: S3Client) throws -> String {
        let id = try s3.createMultipartUpload(name, metadata: metadata)
        do {
            let hasher = XXH3Hasher()
            var parts: [(number: Int, etag: String)] = []
            var offset: UInt64 = 0
            while offset < file.bytes {
                let bytes = try file.file.read(size: multipartThreshold, at: offset)
                guard !bytes.isEmpty else { throw Self.changed(file) }
                bytes.withUnsafeBytes { hasher.update($0) }
                parts.append((parts.count + 1, try s3.uploadPart(name, uploadId: id, number: parts.count + 1, bytes)))
                offset += UInt64(bytes.count)
            }
            guard offset == file.bytes, hasher.digest() == file.checksum else { throw Self.changed(file) }
            try s3.completeMultipartUpload(name, uploadId: id, parts: parts)
            return try s3.head(name)?.etag ?? ""
        } catch {
            try? s3.abortMultipartUpload(name, uploadId: id)
            throw error
        }
    }

    static func changed(_ file: StagedWrite) -> S3Error {
        S3Error(status: 0, code: "", message: "the staged copy \(file.file.displayPath) no longer holds the bytes that were checked", request: "upload")
    }

    package func remove(_ path: RelativePath) throws(SystemError) {
        let name = objectName(path)
        do throws(S3Error) {
            try clients.with { s3 throws(S3Error) in
                // The size it frees, for the quota (S3's DELETE does not say).
                let size = usage == nil ? nil : try s3.head(name)?.size
                try s3.delete(name)
                if let size { usage?.removed(size) }
            }
            records.forget(name)
        } catch {
            throw Self.systemError(error)
        }
    }

    /// The manifest and the checksum lists: in the bucket beside the copy, and in the
    /// local staging folder (where the read view and a person on the node find them).
    package func put(_ path: RelativePath, _ bytes: [UInt8]) throws(SystemError) {
        try tree.writeWhole(path, bytes)
        let name = objectName(path)
        do throws(S3Error) {
            try clients.with { s3 throws(S3Error) in
                let replaced = usage == nil ? nil : try s3.head(name)?.size
                _ = try s3.put(name, bytes)
                usage?.stored(UInt64(bytes.count), replacing: replaced)
            }
        } catch {
            throw Self.systemError(error)
        }
    }

    /// The store's errors are the Store's: EIO where trying again may help, EACCES where not.
    static func systemError(_ error: S3Error) -> SystemError {
        SystemError(error.description, errno: error.isTransient ? EIO : EACCES)
    }

    package func displayPath(_ path: RelativePath) -> String {
        "s3://\(location.bucket)/" + objectName(path)
    }

    package var isWherePathLeads: Bool { tree.isWherePathLeads }
}
