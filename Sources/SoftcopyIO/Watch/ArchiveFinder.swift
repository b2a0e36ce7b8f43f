import Glibc
public import SoftcopyCore

/// Finds the archives under a watched folder, and tells whether one changed since a
/// look: a walk of folders only (no call per file), so that it can run every few seconds
/// beside a copy.
public enum ArchiveFinder {
    /// Folders below `folder`, at most `maximumDepth` levels down, whose name matches
    /// `pattern` (fnmatch), as paths relative to `folder`. A match is not descended into
    /// (a plate's wells and a group's arrays are the archive's, not archives), nor are
    /// hidden folders (softcopy's own, editors'). Nil if `folder` does not exist.
    public static func archives(in folder: String, pattern: String, maximumDepth: Int = WatchSpec.maximumDepth) -> [String]? {
        guard (try? FileStatus.of(folder, followingLinks: true))?.kind == .directory else { return nil }
        var found: [String] = []
        var queue: [(relative: String, depth: Int)] = [("", 1)]
        while let (relative, depth) = queue.popLast() {
            let path = relative.isEmpty ? folder : folder + "/" + relative
            guard let entries = try? DirectoryLister.list(path, statFiles: false) else { continue }
            for entry in entries where entry.kind == .directory && !entry.name.hasPrefix(".") {
                let child = relative.isEmpty ? entry.name : relative + "/" + entry.name
                if matches(entry.name, pattern) {
                    found.append(child)
                } else if depth < maximumDepth {
                    queue.append((child, depth + 1))
                }
            }
        }
        return found.sorted()
    }

    public static func matches(_ name: String, _ pattern: String) -> Bool {
        fnmatch(pattern, name, 0) == 0
    }

    /// What changes when a writer adds, renames or removes anything in the archive: its
    /// folders' count and their latest modification time, and whether its `complete`
    /// marker is there. Writing a file in place without renaming it does not change it.
    public struct Fingerprint: Sendable, Hashable, CustomStringConvertible {
        public var folders: Int
        public var latestChangeNs: Int64
        public var complete: Bool

        public init(folders: Int, latestChangeNs: Int64, complete: Bool) {
            self.folders = folders
            self.latestChangeNs = latestChangeNs
            self.complete = complete
        }

        /// "folders:latest:complete", as the history stores it.
        public var description: String { "\(folders):\(latestChangeNs):\(complete ? 1 : 0)" }

        public init?(_ text: String) {
            let parts = text.split(separator: ":")
            guard parts.count == 3, let f = Int(parts[0]), let l = Int64(parts[1]) else { return nil }
            self.init(folders: f, latestChangeNs: l, complete: parts[2] == "1")
        }
    }

    /// The archive's fingerprint now; nil if it is gone.
    public static func fingerprint(of archive: String) -> Fingerprint? {
        guard let root = try? FileStatus.of(archive, followingLinks: true), root.kind == .directory else { return nil }
        var print = Fingerprint(folders: 0, latestChangeNs: root.version.mtimeNanoseconds, complete: false)
        var queue = [archive]
        while let path = queue.popLast() {
            print.folders += 1
            guard let entries = try? DirectoryLister.list(path, statFiles: false) else { continue }
            for entry in entries where entry.kind == .directory {
                let child = path + "/" + entry.name
                if let status = try? FileStatus.of(child) { print.latestChangeNs = max(print.latestChangeNs, status.version.mtimeNanoseconds) }
                queue.append(child)
            }
            if path == archive { print.complete = entries.contains { $0.name == ZarrNaming.endMarkerName } }
        }
        return print
    }
}
