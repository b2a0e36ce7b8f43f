package import SoftcopyCore
package import SoftcopyIO

/// Where a copy job's files go: one target's destination. `FolderStore` is the POSIX
/// folder that agents and the local copy write; an object store (issue 23) stages the
/// same way, into a spool file on the node's disk, and uploads at `commit`.
///
/// A write goes: `beginWrite` (a temp file the transfer streams into) → `stage` (the
/// received file checked and settled) → `commit` (a batch made durable and visible at
/// once). What a node holds is listed from its root (`AgentListingBuilder`), not from a
/// store: one listing answers for every job under the root.
package protocol Store: Sendable {
    /// A temp file for `path`'s bytes; dropped without `stage`, it is removed.
    func beginWrite(_ path: RelativePath, size: UInt64) throws(SystemError) -> PendingFile

    /// Checks and settles a written temp file; the mismatch to report if the bytes that
    /// landed are not the `received` bytes hashing to `checksum`.
    func stage(_ pending: consuming PendingFile, path: RelativePath, version: FileVersion, checksum: Checksum,
               received: UInt64, mode: UInt32, buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> Result<StagedWrite, StageMismatch>

    /// Makes a batch durable and visible, with the `removals`' folders: each file's outcome
    /// by position, the folders whose sync failed, and an error that says the store is full.
    func commit(_ staged: [StagedWrite], removals: Set<RelativePath>)
        -> (outcomes: [WorkOutcome], failedDirectories: [RelativePath: SystemError], noSpace: SystemError?)

    /// Removes a file; made durable with the next `commit`'s removals.
    func remove(_ path: RelativePath) throws(SystemError)

    /// Writes a small whole file durably (the manifest), replacing what is there.
    func put(_ path: RelativePath, _ bytes: [UInt8]) throws(SystemError)

    /// How messages name where a path is in this store.
    func displayPath(_ path: RelativePath) -> String

    /// The store is still the one the job was given (a folder not replaced or mounted over).
    var isWherePathLeads: Bool { get }
}

/// A file received and checked under its temp name; `Store.commit` finishes it.
package struct StagedWrite {
    let file: StagedFile
    let version: FileVersion
    let checksum: Checksum
    let bytes: UInt64
    /// The record is on the file (a filesystem without extended attributes refuses it).
    let recorded: Bool
}

/// The bytes that landed are not the bytes that were received.
package struct StageMismatch: Error {
    let message: String
}
