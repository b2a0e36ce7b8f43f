/// How long a chunk waits before it is read, while the acquisition runs, so that a chunk
/// the writer writes several times in a burst (plane by plane, shard by partial write,
/// a region rewritten) is read and sent about once, after the burst, not once per write.
///
/// Learned from the writer's own rhythm, per archive; a pure value, time passed in:
/// - a chunk written again within `maxHold` of its last write waits `1.5 ×` that gap
///   (plus 5 ms) after each write, at most `maxHold`: if the writer comes back at its
///   rhythm the wait starts over, and once it stops the chunk goes;
/// - a new chunk waits the same, learned from the archive's recent rewrites, while most
///   new chunks of late were written again (`rewrittenShare`; each is judged `judgement`
///   after its first write), and while there is too little evidence either way (fewer
///   than `minimumEvidence` judged: the first tenth of a second of an acquisition; the
///   first rewrite seen extends the waits of the first round's chunks still waiting to
///   the rhythm it shows, `ArchiveTracker.holdPendingNewChunks`); in an
///   archive whose chunks are written once, a new chunk then goes at once, as without
///   the hold;
/// - a chunk that keeps being written is still read at least every `maxDeferral`, so a
///   shard filled for minutes reaches the copy all along.
public struct RewriteHold: Sendable, Equatable {
    /// The longest wait after a write; 0 turns the hold off.
    public var maxHold: Duration
    /// The longest a chunk's pending version is put off while it keeps changing.
    public var maxDeferral: Duration

    /// Decayed counts of new chunks whose first `maxHold` has passed, and of those among
    /// them that were written again meanwhile: about the last 50 weigh.
    private(set) var resolvedChunks: Double = 0
    private(set) var rewrittenChunks: Double = 0
    /// The recent gap between two writes of one chunk (an average that follows change).
    private(set) var gapSeconds: Double = 0

    static let decay = 0.98
    /// New chunks wait only when more than this share of recent ones were written again.
    static let rewrittenShare = 0.5
    static let minimumEvidence = 4.0
    /// The rhythm assumed before any chunk was written twice: a 95 ms wait, which
    /// covers zarr-python rewriting a region every 50 ms (a round of writes takes 10 to
    /// 20 ms more) and a plane-by-plane tensorstore writer, and keeps a frame writer's
    /// first burst of chunks within the 250 ms its chunks may take at p99 (155 ms, tried
    /// first, put 16 chunks of 2 MiB at 282 ms through an agent).
    static let defaultGap: Duration = .milliseconds(60)

    public init(maxHold: Duration = .milliseconds(300), maxDeferral: Duration = .seconds(5)) {
        self.maxHold = maxHold
        self.maxDeferral = maxDeferral
    }

    public var isOn: Bool { maxHold > .zero }

    /// Every version goes as soon as it is seen.
    public static let off = RewriteHold(maxHold: .zero)

    /// A chunk seen for the first time: the wait it gets.
    public func newChunk() -> Duration {
        guard isOn else { return .zero }
        guard resolvedChunks < Self.minimumEvidence || rewrittenChunks / resolvedChunks > Self.rewrittenShare else { return .zero }
        return judgement
    }

    /// How long after its first write a new chunk is judged (written again or not): the
    /// wait the writer's rhythm calls for, whether or not the chunk got it. Short, so an
    /// archive whose chunks are written once stops holding them soon after it starts.
    public var judgement: Duration {
        wait(forGap: gapSeconds > 0 ? .secondsValue(gapSeconds) : Self.defaultGap)
    }

    /// A new chunk's judgement is due: whether it was written again meanwhile.
    public mutating func resolved(rewritten: Bool) {
        resolvedChunks = resolvedChunks * Self.decay + 1
        rewrittenChunks = rewrittenChunks * Self.decay + (rewritten ? 1 : 0)
    }

    /// A chunk written again `gap` after its last write: the wait it gets, zero when the
    /// gap is longer than `maxHold` (no burst).
    public mutating func rewritten(after gap: Duration) -> Duration {
        guard isOn, gap <= maxHold else { return .zero }
        let g = max(gap.secondsValue, 0)
        gapSeconds = gapSeconds == 0 ? g : gapSeconds * 0.8 + g * 0.2
        return wait(forGap: gap)
    }

    /// The share of recent new chunks that were written again (for the status).
    public var rewrittenFraction: Double { resolvedChunks > 0 ? min(1, rewrittenChunks / resolvedChunks) : 0 }

    func wait(forGap gap: Duration) -> Duration {
        min(maxHold, .secondsValue(max(gap.secondsValue, 0) * 1.5) + .milliseconds(5))
    }
}
