import CSoftcopyShims
import CZstd
public import SoftcopyCore

/// Undoes `WireCompressor` as a chunk's compressed bytes arrive: zstd's stream, then the
/// shuffle block by block. Never yields more than the chunk's announced size (a body that
/// would is refused, not written), and says when the stream ended early. The checksum is
/// the caller's, of the bytes this yields. One thread at a time.
public final class WireDecompressor: @unchecked Sendable {
    private let context: OpaquePointer
    private let block: UnsafeMutableRawBufferPointer
    private let unshuffled: UnsafeMutableRawBufferPointer
    private var filled = 0
    private var shuffle = 1
    private var expected: UInt64 = 0
    /// Raw bytes yielded so far.
    public private(set) var produced: UInt64 = 0
    private var frameEnded = false
    /// Why the stream cannot be decoded, once it cannot.
    public private(set) var failure: String?

    public init() {
        guard let context = ZSTD_createDCtx() else { fatalError("zstd: out of memory for a decompression context") }
        self.context = context
        block = .allocate(byteCount: WireEncoding.blockSize, alignment: 64)
        unshuffled = .allocate(byteCount: WireEncoding.blockSize, alignment: 64)
    }

    deinit {
        ZSTD_freeDCtx(context)
        block.deallocate()
        unshuffled.deallocate()
    }

    /// Starts a chunk of `size` raw bytes.
    public func begin(_ encoding: WireEncoding, size: UInt64) {
        ZSTD_DCtx_reset(context, ZSTD_reset_session_only)
        shuffle = encoding.shuffle
        expected = size
        produced = 0
        filled = 0
        frameEnded = false
        failure = nil
    }

    /// Compressed bytes in; raw bytes out to `yield`, in order. False when decoding
    /// stopped: `failure` says why, or `yield` returned false.
    public func update(_ input: UnsafeRawBufferPointer, yield: (UnsafeRawBufferPointer) -> Bool) -> Bool {
        guard failure == nil else { return false }
        var source = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        while source.pos < source.size {
            if frameEnded { return fail("bytes after the end of the compressed chunk") }
            var sink = ZSTD_outBuffer(dst: block.baseAddress! + filled, size: block.count - filled, pos: 0)
            let hint = ZSTD_decompressStream(context, &sink, &source)
            if ZSTD_isError(hint) != 0 { return fail("zstd: \(String(cString: ZSTD_getErrorName(hint)))") }
            filled += sink.pos
            if hint == 0 { frameEnded = true }
            if filled == block.count, !flush(yield) { return false }
        }
        return true
    }

    /// The end of the compressed body: the last partial block out; false if the stream
    /// ended early or held another size than announced.
    public func finish(yield: (UnsafeRawBufferPointer) -> Bool) -> Bool {
        guard failure == nil else { return false }
        // A frame's last block may still sit in zstd's buffer when its input ran out
        // exactly at a block boundary.
        while !frameEnded {
            var source = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
            var sink = ZSTD_outBuffer(dst: block.baseAddress! + filled, size: block.count - filled, pos: 0)
            let hint = ZSTD_decompressStream(context, &sink, &source)
            if ZSTD_isError(hint) != 0 { return fail("zstd: \(String(cString: ZSTD_getErrorName(hint)))") }
            filled += sink.pos
            if hint == 0 { frameEnded = true } else if sink.pos == 0 { return fail("the compressed chunk ended early") }
            if filled == block.count, !flush(yield) { return false }
        }
        if filled > 0, !flush(yield) { return false }
        guard produced == expected else { return fail("the compressed chunk held \(produced) bytes, \(expected) were announced") }
        return true
    }

    private func flush(_ yield: (UnsafeRawBufferPointer) -> Bool) -> Bool {
        let n = filled
        filled = 0
        guard produced + UInt64(n) <= expected else { return fail("the compressed chunk holds more than the \(expected) bytes announced") }
        produced += UInt64(n)
        let out: UnsafeRawBufferPointer
        if shuffle > 1 {
            softcopy_unshuffle(unshuffled.baseAddress!.assumingMemoryBound(to: UInt8.self), block.baseAddress!.assumingMemoryBound(to: UInt8.self),
                               n, shuffle)
            out = UnsafeRawBufferPointer(rebasing: unshuffled[..<n])
        } else {
            out = UnsafeRawBufferPointer(rebasing: block[..<n])
        }
        return yield(out)
    }

    private func fail(_ message: String) -> Bool {
        failure = message
        return false
    }
}
