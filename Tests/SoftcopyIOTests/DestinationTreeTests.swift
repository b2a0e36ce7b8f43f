import CSoftcopyShims
import Glibc
import Testing
import SoftcopyCore
import SoftcopyIO
import SoftcopyTesting

@Suite("Destination tree: writes stay under the root, and are atomic", .serialized)
struct DestinationTreeTests {
    func write(_ tree: DestinationTree, _ path: String, _ text: String) throws -> FileStatus {
        let pending = try tree.beginWrite(RelativePath(validating: path))
        try pending.write(Array(text.utf8))
        try pending.finish(mode: 0o644, modificationTime: 1_700_000_000_123_456_789)
        return try pending.commit(syncDirectory: true)
    }

    @Test("a committed file is under its real name with its bytes and mtime; folders are made", arguments: [false, true])
    func commit(fallback: Bool) throws {
        softcopy_open_beneath_force_fallback(fallback ? 1 : 0)
        defer { softcopy_open_beneath_force_fallback(0) }
        let dir = TestDirectory("dest")
        let tree = try DestinationTree(root: dir.appending("root"), create: true)
        let status = try write(tree, "a/b/c/chunk", "hello")
        #expect(status.version.mtimeNanoseconds == 1_700_000_000_123_456_789)
        #expect(try readSmallFile(dir.appending("root/a/b/c/chunk")) == Array("hello".utf8))
        #expect(try tree.status(of: RelativePath(validating: "a/b/c/chunk"))?.version.inode == status.version.inode)
    }

    @Test("a symlink planted in the tree cannot lead a write outside the root", arguments: [false, true])
    func symlinkEscape(fallback: Bool) throws {
        softcopy_open_beneath_force_fallback(fallback ? 1 : 0)
        defer { softcopy_open_beneath_force_fallback(0) }
        let dir = TestDirectory("escape")
        let tree = try DestinationTree(root: dir.appending("root"), create: true)
        _ = mkdir(dir.appending("outside"), 0o755)
        symlink(dir.appending("outside"), dir.appending("root/evil"))
        #expect(throws: SystemError.self) { _ = try write(tree, "evil/chunk", "x") }
        #expect(try statusOf(dir.appending("outside/chunk")) == nil)
        // A symlink as the final name is replaced by the file, never written through.
        symlink(dir.appending("outside/target"), dir.appending("root/link"))
        _ = try write(tree, "link", "y")
        #expect(try FileStatus.of(dir.appending("root/link"))?.kind == .regular)
        #expect(try statusOf(dir.appending("outside/target")) == nil)
    }

    @Test("'..' is refused by the kernel check too, even if a path skipped validation", arguments: [false, true])
    func dotDotEscape(fallback: Bool) throws {
        softcopy_open_beneath_force_fallback(fallback ? 1 : 0)
        defer { softcopy_open_beneath_force_fallback(0) }
        let dir = TestDirectory("dotdot")
        let tree = try DestinationTree(root: dir.appending("root"), create: true)
        _ = mkdir(dir.appending("outside"), 0o755)
        #expect(throws: SystemError.self) {
            _ = try tree.openDirectory(RelativePath(unchecked: "../outside"), create: false)
        }
        #expect(throws: SystemError.self) {
            _ = try tree.beginWrite(RelativePath(unchecked: "../outside/chunk"))
        }
        #expect(try statusOf(dir.appending("outside/chunk")) == nil)
    }

    @Test("a write that is abandoned leaves nothing behind")
    func abandoned() throws {
        let dir = TestDirectory("abandon")
        let tree = try DestinationTree(root: dir.appending("root"), create: true)
        do {
            let pending = try tree.beginWrite(RelativePath(validating: "c/0"))
            try pending.write(Array("partial".utf8))
        }
        let entries = try DirectoryLister.list(dir.appending("root/c")) ?? []
        #expect(entries.isEmpty, "no temp file and no file under the real name")
    }

    @Test("every folder below the root is found, deep and wide (the walk is shared out over cores), except the state folder")
    func directories() throws {
        let dir = TestDirectory("dirs")
        let tree = try DestinationTree(root: dir.appending("root"), create: true)
        var expected: Set<String> = []
        // Wider than the breadth-first fan-out, and deeper below it.
        for t in 0..<20 {
            for z in 0..<3 {
                let folder = "c/\(t)/\(z)/0"
                _ = try write(tree, folder + "/0", "chunk")
                for depth in 1...4 { expected.insert(folder.split(separator: "/").prefix(depth).joined(separator: "/")) }
            }
        }
        _ = mkdir(dir.appending("root/empty"), 0o755)
        expected.insert("empty")
        _ = mkdir(dir.appending("root/.softcopy"), 0o755)
        _ = mkdir(dir.appending("root/.softcopy/inside"), 0o755)
        let found = try tree.directories().map(\.string)
        #expect(found.count == expected.count, "each folder once")
        #expect(Set(found) == expected)
    }

    @Test("a folder where a file should go is an error, not a silent replacement")
    func directoryInTheWay() throws {
        let dir = TestDirectory("isdir")
        let tree = try DestinationTree(root: dir.appending("root"), create: true)
        _ = mkdir(dir.appending("root/x"), 0o755)
        #expect(throws: SystemError.self) { _ = try write(tree, "x", "data") }
        #expect(try FileStatus.of(dir.appending("root/x"))?.kind == .directory)
    }

    @Test("a batch commits together: nothing under a real name until its rename, every file whole after; a dropped staged file leaves nothing")
    func groupCommit() throws {
        let dir = TestDirectory("group-commit")
        let tree = try DestinationTree(root: dir.appending("root"), create: true)
        var staged: [StagedFile] = []
        for n in 0..<20 {
            let path = try RelativePath(validating: "c/\(n % 3)/\(n)/0")
            let pending = try tree.beginWrite(path)
            try pending.write(Array("chunk \(n)".utf8))
            try pending.settle(mode: 0o640, modificationTime: 1_000_000_000 * Int64(n), size: UInt64("chunk \(n)".utf8.count))
            staged.append(try StagedFile(pending, path: path))
        }
        #expect(try TreeComparison.files(dir.appending("root")).isEmpty, "a real name before the rename")
        let (results, failed) = tree.commit(staged, removals: [try RelativePath(validating: "c/0")]) { index throws(SystemError) in
            try staged[index].rename()
            return nil
        }
        #expect(results.count == 20 && results.allSatisfy { if case .renamed = $0 { true } else { false } })
        #expect(failed.isEmpty)
        let landed = try TreeComparison.files(dir.appending("root"))
        #expect(landed.count == 20)
        for n in 0..<20 {
            let path = dir.appending("root/c/\(n % 3)/\(n)/0")
            #expect(landed["c/\(n % 3)/\(n)/0"] == Array("chunk \(n)".utf8))
            #expect(try FileStatus.of(path)?.mode == 0o640)
            #expect(try statusOf(path)?.mtimeNanoseconds == 1_000_000_000 * Int64(n))
        }
        // Renamed twice is an error, not a second rename.
        #expect(throws: SystemError.self) { try staged[0].rename() }
        do {
            let pending = try tree.beginWrite(try RelativePath(validating: "c/9/dropped"))
            try pending.write(Array("never renamed".utf8))
            _ = try StagedFile(pending, path: try RelativePath(validating: "c/9/dropped"))
        }
        #expect(try DirectoryLister.list(dir.appending("root/c/9"))?.isEmpty == true, "the temp file of a dropped staged file is removed")
    }

    @Test("a staged file opens what its rename would replace: the file there now, nothing where there is none, never through a link; a FIFO blocks no open")
    func existingUnderRealName() throws {
        let dir = TestDirectory("existing")
        let tree = try DestinationTree(root: dir.appending("root"), create: true)
        func stage(_ path: String) throws -> StagedFile {
            let pending = try tree.beginWrite(RelativePath(validating: path))
            try pending.write(Array("new".utf8))
            return try StagedFile(pending, path: RelativePath(validating: path))
        }
        /// The inode of what `openExisting` opened, nil if it opened nothing.
        func existing(_ file: StagedFile) throws -> UInt64? {
            guard let fd = try file.openExisting() else { return nil }
            return try fd.status().version.inode
        }
        let old = try write(tree, "c/0/0", "old")
        #expect(try existing(stage("c/0/0")) == old.version.inode)
        #expect(try existing(stage("c/0/1")) == nil)
        // A link at the real name is refused, not followed to its target.
        #expect(symlink(dir.appending("root/c/0/0"), dir.appending("root/c/0/2")) == 0)
        #expect(throws: SystemError.self) { _ = try existing(stage("c/0/2")) }
        // A FIFO there would block a plain open for reading until a writer came.
        #expect(mkfifo(dir.appending("root/c/0/3"), 0o644) == 0)
        #expect(try existing(stage("c/0/3")) != nil)
        // Nor does it block an open for reading from the root (listings, GETs, adoption).
        func kindOpened(_ path: String) throws -> FileStatus.Kind? {
            guard let fd = try tree.openForReading(RelativePath(validating: path)) else { return nil }
            return try fd.status().kind
        }
        #expect(try kindOpened("c/0/3") == .other)
    }

    @Test("the written bytes are re-read and hashed where they landed")
    func landedChecksum() throws {
        let dir = TestDirectory("landed")
        let tree = try DestinationTree(root: dir.appending("root"), create: true)
        let bytes = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let pending = try tree.beginWrite(RelativePath(validating: "big"))
        try pending.write(bytes)
        try pending.finish(mode: 0o644, modificationTime: nil)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 16)
        defer { buffer.deallocate() }
        let (checksum, length) = try pending.checksumOfWrittenBytes(buffer: buffer)
        #expect(length == 300_000)
        #expect(checksum == XXH3Hasher.checksum(bytes))
    }
}

func statusOf(_ path: String) throws -> FileVersion? {
    try FileStatus.of(path)?.version
}

@Suite("A source file read through its descriptor: what counts as changed")
struct SourceFileChangeTests {
    @Test("a newer version renamed over the name leaves the opened one intact (only its ctime moves); a write through the inode is a change")
    func replacedIsNotChanged() throws {
        let dir = TestDirectory("src-replaced")
        let path = dir.appending("chunk")
        TestDirectory.write(bytes: Array("first".utf8), to: path)
        guard let opened = try SourceFile.open(path) else { Issue.record("cannot open \(path)"); return }
        TestDirectory.write(bytes: Array("second".utf8), to: dir.appending("chunk.__lock"))
        #expect(rename(dir.appending("chunk.__lock"), path) == 0)
        #expect(try FileStatus.of(path)?.version.inode != opened.status.version.inode)
        #expect(try opened.changedSinceOpen(checkPath: false) == false, "the opened version is whole")
        #expect(try opened.changedSinceOpen(checkPath: true) == true, "another file is at the path")

        guard let again = try SourceFile.open(path) else { Issue.record("cannot open \(path)"); return }
        let fd = open(path, O_WRONLY | O_APPEND)
        #expect(fd >= 0 && write(fd, "!", 1) == 1)
        close(fd)
        #expect(try again.changedSinceOpen(checkPath: false) == true, "written in place")
    }
}

@Suite("Removing a verified source file: only the version that was verified")
struct SourceFileRemovalTests {
    private func make(_ dir: TestDirectory, _ name: String, _ text: String) throws -> (DestinationTree, RelativePath, FileVersion) {
        let root = dir.appending("src")
        _ = mkdir(root, 0o755)
        TestDirectory.write(bytes: Array(text.utf8), to: root + "/" + name)
        let status = try #require(try FileStatus.of(root + "/" + name))
        return (try DestinationTree(root: root, create: false), try RelativePath(validating: name), status.version)
    }

    @Test("the verified version goes; a missing file is already gone")
    func removesVerified() throws {
        let dir = TestDirectory("rm-verified")
        let (tree, name, version) = try make(dir, "chunk", "abc")
        #expect(tree.removeIfUnchanged(name, expected: version) == .removed)
        #expect(try FileStatus.of(dir.appending("src/chunk")) == nil)
        #expect(tree.removeIfUnchanged(name, expected: version) == .alreadyGone)
        #expect(try DestinationTree(root: dir.appending("src"), create: false).entries(in: .root)?.isEmpty == true)
    }

    @Test("a file rewritten, replaced or touched since it was verified stays, and so does a link")
    func keepsChanged() throws {
        let dir = TestDirectory("rm-changed")
        let (tree, name, version) = try make(dir, "chunk", "abc")
        let path = dir.appending("src/chunk")
        // Replaced by a writer's rename: another inode.
        TestDirectory.write(bytes: Array("new".utf8), to: dir.appending("src/tmp"))
        #expect(rename(dir.appending("src/tmp"), path) == 0)
        guard case .changed = tree.removeIfUnchanged(name, expected: version) else { Issue.record("a replaced file was removed"); return }
        #expect(try readSmallFile(path) == Array("new".utf8))
        // Written in place: same inode, another mtime.
        let current = try #require(try FileStatus.of(path)).version
        var times = [timespec(tv_sec: 1_600_000_000, tv_nsec: 0), timespec(tv_sec: 1_600_000_000, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, path, &times, 0) == 0)
        guard case .changed = tree.removeIfUnchanged(name, expected: current) else { Issue.record("a touched file was removed"); return }
        #expect(try readSmallFile(path) == Array("new".utf8))
        // A symbolic link where the file was is not the file.
        _ = unlink(path)
        symlink("elsewhere", path)
        #expect(tree.removeIfUnchanged(name, expected: current) == .symbolicLink, "a link was removed")
        #expect(try FileStatus.of(path)?.kind == .symlink)
    }

    @Test("a file an interrupted removal moved aside is finished: removed if it is the verified version")
    func finishesAside() throws {
        let dir = TestDirectory("rm-aside")
        let (tree, name, version) = try make(dir, "chunk", "abc")
        let aside = dir.appending("src/" + DestinationTree.temporaryPrefix + "rm-\(version.inode)")
        #expect(rename(dir.appending("src/chunk"), aside) == 0)
        #expect(tree.removeIfUnchanged(name, expected: version) == .removed)
        #expect(try FileStatus.of(aside) == nil)
    }
}
