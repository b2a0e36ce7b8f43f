import Glibc
public import SoftcopyCore

/// What a symbolic link in a source archive stands for, under `symlinks:`. A zarr reader
/// follows links, so by default softcopy copies what a link points to as long as it stays
/// inside the archive; a link that leads outside (or nowhere, or round in a loop) is a
/// problem with a name, unless the policy says to follow it anyway or to leave it out.
public struct SourceLinks: Sendable {
    public let policy: SymlinkPolicy
    /// The archive's root with every link resolved (the root itself may be a link).
    public let realRoot: String

    public init(policy: SymlinkPolicy, root: String) {
        self.policy = policy
        self.realRoot = realPath(root) ?? root
    }

    public enum Resolution: Sendable {
        /// Copy it as this file.
        case file(FileStatus, target: String)
        /// Walk it as this folder.
        case directory(target: String)
        /// Not copied: why, for the verdict.
        case problem(String)
        /// Not copied, as the policy asks.
        case skip
    }

    /// What the link at `absolute` stands for.
    public func resolve(_ absolute: String) -> Resolution {
        if policy == .skip { return .skip }
        let pointsTo = Self.contents(of: absolute) ?? "?"
        guard let target = realPath(absolute) else {
            return .problem("a symbolic link to \(PathBytes.display(pointsTo)), which does not exist (or is a loop of links)")
        }
        if policy == .inside, !PathNormalizer.isSameOrInside(target, realRoot) {
            return .problem("a symbolic link to \(PathBytes.display(target)), outside the archive (symlinks: follow copies what it points to, symlinks: skip leaves it out)")
        }
        var st = stat()
        guard PathBytes.withCString(target, { stat($0, &st) }) == 0 else {
            return .problem("a symbolic link to \(PathBytes.display(target)), which cannot be looked at: \(SystemError("stat", path: target).reason)")
        }
        let status = FileStatus(st)
        switch status.kind {
        case .regular: return .file(status, target: target)
        case .directory: return .directory(target: target)
        case .symlink, .other: return .problem("a symbolic link to \(PathBytes.display(target)), a special file (FIFO, socket or device)")
        }
    }

    /// The text of a link (readlink), for messages.
    static func contents(of path: String) -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = PathBytes.withCString(path) { name in
            buffer.withUnsafeMutableBufferPointer { readlink(name, UnsafeMutableRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), $0.count) }
        }
        return n < 0 ? nil : PathBytes.string(from: Array(buffer[..<n]))
    }
}
