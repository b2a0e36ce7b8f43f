import Glibc
import Testing
import SoftcopyCore
import SoftcopyIO
import SoftcopyTesting

@Suite("System wrappers")
struct SystemTests {
    @Test("XXH3-128 matches xxhash's reference values, in one call or in pieces")
    func xxh3() {
        // xxh128sum of an empty input.
        #expect(XXH3Hasher.checksum([]).hex == "99aa06d3014798d86001c324468d497f")
        let bytes = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 * 31) }
        let hasher = XXH3Hasher()
        bytes.withUnsafeBytes { all in
            hasher.update(UnsafeRawBufferPointer(rebasing: all[0..<1234]))
            hasher.update(UnsafeRawBufferPointer(rebasing: all[1234...]))
        }
        #expect(hasher.digest() == XXH3Hasher.checksum(bytes))
    }

    @Test("a zombie writer counts as exited")
    func zombie() throws {
        let child = try ChildProcess(["/bin/true"])
        // Not reaped yet: kill(pid, 0) still succeeds, /proc says Z.
        try ChildProcess.waitUntil(timeout: .seconds(10), "the child to exit") {
            (try? readSmallFile("/proc/\(child.pid)/stat")).map { String(decoding: $0, as: UTF8.self).contains(") Z") } ?? true
        }
        #expect(!ProcessProbe.isRunning(child.pid))
        #expect(ProcessProbe.isRunning(getpid()))
    }

    @Test("copy threads can be put in the idle IO class")
    func ioPriority() {
        #expect(IOPriority.idle.applyToCurrentThread() == nil)
        #expect(IOPriority.currentThreadClass() == 3)
        _ = IOPriority.low.applyToCurrentThread()
        #expect(IOPriority.currentThreadClass() == 2)
    }

    @Test("the journal appends, replays and compacts")
    func journal() throws {
        let dir = TestDirectory("journal")
        let record = DestinationRecord(
            version: FileVersion(inode: 1, size: 2, mtimeNanoseconds: 3, ctimeNanoseconds: 4),
            checksum: Checksum(high: 5, low: 6), inode: 7)
        let a = try RelativePath(validating: "c/0"), b = try RelativePath(validating: "c/1")
        do {
            let journal = try JournalFile(destinationRoot: dir.path)
            try journal.append([.copied(a, record), .copied(b, record)])
            try journal.append([.deleted(b)])
        }
        #expect(try JournalFile.load(destinationRoot: dir.path).records == [a: record])
        let journal = try JournalFile(destinationRoot: dir.path)
        try journal.compact([(b, record)])
        try journal.append([.copied(a, record)])
        #expect(try JournalFile.load(destinationRoot: dir.path).records == [a: record, b: record])
    }

    @Test("the directory lister reports kinds without following links")
    func lister() throws {
        let dir = TestDirectory("list")
        touch(dir.appending("file"), "abc")
        _ = mkdir(dir.appending("sub"), 0o755)
        symlink("/etc/passwd", dir.appending("link"))
        mkfifo(dir.appending("fifo"), 0o644)
        let entries = try #require(try DirectoryLister.list(dir.path))
        let kinds = Dictionary(uniqueKeysWithValues: entries.map { ($0.name, $0.kind) })
        #expect(kinds == ["file": .regular, "sub": .directory, "link": .symlink, "fifo": .other])
        #expect(entries.first { $0.name == "file" }?.status?.version.size == 3)
        #expect(try DirectoryLister.list(dir.appending("nothing")) == nil)
        // A walk for folders takes readdir's word and stats nothing.
        let quick = try #require(try DirectoryLister.list(dir.path, statFiles: false))
        let quickKinds = Dictionary(uniqueKeysWithValues: quick.map { ($0.name, $0.kind) })
        #expect(quickKinds == ["file": .regular, "sub": .directory, "link": .other, "fifo": .other])
        #expect(quick.allSatisfy { $0.status == nil })
    }

    @Test("mapRanges cuts a count into contiguous ranges in order, one range below the minimum")
    func mapRanges() {
        let ranges = Parallel.mapRanges(20, minimum: 5) { $0 }
        #expect(ranges.count == 8)
        #expect(ranges.first?.lowerBound == 0 && ranges.last?.upperBound == 20)
        #expect(zip(ranges, ranges.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
        #expect(Parallel.mapRanges(4, minimum: 5) { $0 } == [0..<4])
        #expect(Parallel.mapRanges(0, minimum: 5) { $0 } == [0..<0])
    }
}
