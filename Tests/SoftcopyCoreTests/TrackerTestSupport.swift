import SoftcopyCore

/// Small helpers so each tracker test reads as a script of events.
func path(_ s: String) -> RelativePath {
    try! RelativePath(validating: s)
}

func version(_ inode: UInt64, size: UInt64 = 100, mtime: Int64 = 1) -> FileVersion {
    FileVersion(inode: inode, size: size, mtimeNanoseconds: mtime, ctimeNanoseconds: mtime)
}

func ms(_ milliseconds: Int64) -> MonotonicInstant {
    MonotonicInstant(nanoseconds: milliseconds * 1_000_000)
}

let someChecksum = Checksum(high: 1, low: 2)

extension ArchiveTracker {
    /// Leases everything ready and returns the paths, in lease order.
    mutating func leasePaths(at now: MonotonicInstant, max: Int = 100) -> [String] {
        lease(maxItems: max, now: now).map(\.path.string)
    }

    /// Completes a work item as a successful copy of `v`.
    mutating func finishCopy(_ item: WorkItem, _ v: FileVersion, at now: MonotonicInstant) {
        complete(item.path, lease: item.lease, outcome: .copied(version: v, checksum: someChecksum, destinationInode: v.inode + 1000, bytesWritten: v.size), at: now)
    }

    /// Leases and copies everything ready, reporting the version currently observed.
    mutating func copyAllReady(at now: MonotonicInstant, versions: [String: FileVersion]) {
        for item in lease(maxItems: 1000, now: now) {
            switch item.operation {
            case .copy: finishCopy(item, versions[item.path.string]!, at: now)
            case .delete: complete(item.path, lease: item.lease, outcome: .deleted, at: now)
            }
        }
    }
}

/// A small deterministic generator, so generated test cases are the same on every run.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

// Node and lane numbers as literals, in tests only: the sources spell `NodeID(3)` and
// `.local`, so a bare number cannot stand for a node by accident.
extension NodeID: ExpressibleByIntegerLiteral {
    init(integerLiteral value: UInt32) { self.init(value) }
}

extension LaneID: ExpressibleByIntegerLiteral {
    init(integerLiteral value: Int) { self.init(value) }
}
