import CSoftcopyShims
import CZstd
public import SoftcopyCore

/// Compresses one chunk at a time for the wire (`WireEncoding`): the bytes as they are
/// read and hashed go in, one zstd frame comes out. Reused from chunk to chunk (a zstd
/// context is worth keeping). `@unchecked Sendable`: a pool hands it to one thread at a time.
public final class WireCompressor: @unchecked Sendable {
    private let context: OpaquePointer
    /// The current block of raw bytes, until it is whole and can be shuffled.
    private let block: UnsafeMutableRawBufferPointer
    private let shuffled: UnsafeMutableRawBufferPointer
    private var filled = 0
    private var shuffle = 1
    private var output: UnsafeMutableRawPointer?
    private var capacity = 0
    /// Compressed bytes so far.
    public private(set) var count = 0
    /// Raw bytes so far.
    public private(set) var rawCount: UInt64 = 0
    /// zstd's error, if any step failed (then the chunk goes uncompressed).
    public private(set) var failure: String?

    public init() {
        guard let context = ZSTD_createCCtx() else { fatalError("zstd: out of memory for a compression context") }
        self.context = context
        ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, WireEncoding.level)
        block = .allocate(byteCount: WireEncoding.blockSize, alignment: 64)
        shuffled = .allocate(byteCount: WireEncoding.blockSize, alignment: 64)
    }

    deinit {
        ZSTD_freeCCtx(context)
        block.deallocate()
        shuffled.deallocate()
        output?.deallocate()
    }

    /// Starts a chunk.
    public func begin(_ encoding: WireEncoding) {
        ZSTD_CCtx_reset(context, ZSTD_reset_session_only)
        shuffle = encoding.shuffle
        filled = 0
        count = 0
        rawCount = 0
        failure = nil
    }

    /// The next raw bytes of the chunk, in order.
    public func update(_ bytes: UnsafeRawBufferPointer) {
        rawCount += UInt64(bytes.count)
        guard shuffle > 1 else {
            compress(bytes, end: false)
            return
        }
        var at = 0
        while at < bytes.count {
            let n = min(bytes.count - at, block.count - filled)
            (block.baseAddress! + filled).copyMemory(from: bytes.baseAddress! + at, byteCount: n)
            filled += n
            at += n
            if filled == block.count { flushBlock() }
        }
    }

    /// Ends the frame; the compressed chunk is `withOutput`'s until the next `begin`.
    public func finish() {
        if filled > 0 { flushBlock() }
        compress(UnsafeRawBufferPointer(start: nil, count: 0), end: true)
    }

    public func withOutput<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: output, count: count))
    }

    private func flushBlock() {
        softcopy_shuffle(shuffled.baseAddress!.assumingMemoryBound(to: UInt8.self), block.baseAddress!.assumingMemoryBound(to: UInt8.self),
                         filled, shuffle)
        let n = filled
        filled = 0
        compress(UnsafeRawBufferPointer(rebasing: shuffled[..<n]), end: false)
    }

    private func compress(_ input: UnsafeRawBufferPointer, end: Bool) {
        guard failure == nil else { return }
        var source = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        while true {
            reserve(ZSTD_compressBound(input.count - source.pos) + 64)
            var sink = ZSTD_outBuffer(dst: output! + count, size: capacity - count, pos: 0)
            let left = ZSTD_compressStream2(context, &sink, &source, end ? ZSTD_e_end : ZSTD_e_continue)
            count += sink.pos
            if ZSTD_isError(left) != 0 {
                failure = String(cString: ZSTD_getErrorName(left))
                return
            }
            // Continue: all input taken. End: the frame is flushed when nothing is left.
            if end ? left == 0 : source.pos == source.size { return }
        }
    }

    private func reserve(_ more: Int) {
        guard count + more > capacity else { return }
        let grown = max(count + more, capacity * 2, 1 << 16)
        let fresh = UnsafeMutableRawPointer.allocate(byteCount: grown, alignment: 64)
        if let output {
            fresh.copyMemory(from: output, byteCount: count)
            output.deallocate()
        }
        output = fresh
        capacity = grown
    }
}
