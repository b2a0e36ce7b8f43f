/// A target's place in the targets file (0 for the first), and so in the coordinator's
/// runtimes and engine. A target with `replicas: N` has N lanes (`LaneID`), one per copy;
/// the two numberings differ as soon as one target has replicas, so each has its type.
public struct TargetIndex: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var rawValue: Int

    public init(_ rawValue: Int) { self.rawValue = rawValue }

    public var description: String { "\(rawValue)" }

    public static func < (a: TargetIndex, b: TargetIndex) -> Bool { a.rawValue < b.rawValue }
}
