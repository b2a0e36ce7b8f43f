import Glibc
import SoftcopyCore

/// One destination, one writer: an exclusive lock (flock) on `DEST/.softcopy/lock`, held
/// for the whole run. Two coordinators writing one folder each take the other's temp
/// files for a crash's leftovers and remove them, and the copy ends up matching neither
/// source. The lock file names its holder, so the second one is told who has it. The
/// kernel drops the lock when the holder exits, however it exits.
public final class DestinationLock: Sendable {
    private let descriptor: Int32

    public static let fileName = "lock"

    public enum Failure: Error, Sendable, CustomStringConvertible {
        /// Another process holds it; what it wrote about itself.
        case held(by: String)
        case system(SystemError)

        public var description: String {
            switch self {
            case .held(let holder): "another softcopy is writing it: \(holder)"
            case .system(let error): "cannot lock it: \(error)"
            }
        }
    }

    private init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    deinit {
        close(descriptor)
    }

    /// Takes the lock without waiting, and writes `holder` (who, where, what) into it.
    public static func acquire(_ tree: DestinationTree, holder: String) throws(Failure) -> DestinationLock {
        let file: FileDescriptor
        do {
            file = try tree.openStateFile(fileName)
        } catch {
            throw .system(error)
        }
        let fd = file.rawValue
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            if code == EWOULDBLOCK {
                var bytes = [UInt8](repeating: 0, count: 4096)
                let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
                let text = String(decoding: bytes[..<max(n, 0)], as: UTF8.self).trimmingWhitespace()
                throw .held(by: text.isEmpty ? "a process that has not said who it is" : text)
            }
            throw .system(SystemError("flock", path: tree.displayPath(RelativePath(unchecked: DestinationTree.stateDirectoryName + "/" + fileName)), errno: code))
        }
        _ = ftruncate(fd, 0)
        let line = Array((holder + "\n").utf8)
        _ = line.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        return DestinationLock(descriptor: file.release())
    }
}
