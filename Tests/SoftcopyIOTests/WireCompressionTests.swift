import Testing
import SoftcopyCore
import SoftcopyIO

@Suite("Wire compression: zstd with a blockwise byte shuffle, round trip and refusals")
struct WireCompressionTests {
    /// Smooth values plus noise in the low byte, as 16-bit camera images are: compressible.
    static func image(_ count: Int, seed: UInt64 = 7) -> [UInt8] {
        var state = seed
        return (0..<count).map { i in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return i % 2 == 0 ? UInt8(truncatingIfNeeded: (state >> 33) % 40 + 100) : UInt8(i / 4096 % 3)
        }
    }

    static func compress(_ data: [UInt8], _ encoding: WireEncoding, piece: Int, using c: WireCompressor = WireCompressor()) -> [UInt8] {
        c.begin(encoding)
        var at = 0
        while at < data.count {
            let n = min(piece, data.count - at)
            data[at..<at + n].withUnsafeBytes { c.update($0) }
            at += n
        }
        c.finish()
        #expect(c.failure == nil)
        #expect(c.rawCount == UInt64(data.count))
        return c.withOutput { Array($0) }
    }

    /// Decodes in pieces of `piece` bytes; nil with the decoder's failure.
    static func decompress(_ wire: [UInt8], _ encoding: WireEncoding, size: UInt64, piece: Int,
                           using d: WireDecompressor = WireDecompressor()) -> (bytes: [UInt8]?, failure: String?) {
        d.begin(encoding, size: size)
        var out: [UInt8] = []
        var at = 0
        var ok = true
        while ok, at < wire.count {
            let n = min(piece, wire.count - at)
            ok = wire[at..<at + n].withUnsafeBytes { d.update($0) { out.append(contentsOf: $0); return true } }
            at += n
        }
        if ok { ok = d.finish { out.append(contentsOf: $0); return true } }
        return ok ? (out, nil) : (nil, d.failure)
    }

    @Test("Every size around the 1 MiB shuffle block, every element size, fed and drained in odd pieces, comes back exactly",
          arguments: [1, 2, 4, 8, 16])
    func roundTrip(shuffle: Int) {
        let block = WireEncoding.blockSize
        let compressor = WireCompressor(), decompressor = WireDecompressor()
        for size in [0, 1, 3, 4095, block - 1, block, block + 3, 2 * block, 3 * block + block / 2 + 1] {
            let data = Self.image(size, seed: UInt64(size))
            let encoding = WireEncoding(shuffle: shuffle)
            for (inPiece, outPiece) in [(1 << 20, 1 << 16), (12_345, 777), (3 * block, 1 << 30)] {
                let wire = Self.compress(data, encoding, piece: inPiece, using: compressor)
                let back = Self.decompress(wire, encoding, size: UInt64(size), piece: outPiece, using: decompressor)
                #expect(back.failure == nil, "size \(size), shuffle \(shuffle): \(back.failure ?? "")")
                #expect(back.bytes == data, "size \(size), shuffle \(shuffle), pieces \(inPiece)/\(outPiece)")
            }
        }
    }

    @Test("The shuffle is what makes 16-bit images compress: shuffled by 2 they shrink further than unshuffled")
    func shuffleHelps() {
        let data = Self.image(1 << 20)
        let plain = Self.compress(data, WireEncoding(shuffle: 1), piece: 1 << 20).count
        let shuffled = Self.compress(data, WireEncoding(shuffle: 2), piece: 1 << 20).count
        #expect(shuffled < plain, "shuffled \(shuffled) bytes, plain \(plain)")
        #expect(shuffled * 2 < data.count)
    }

    @Test("A stream cut short, one with bytes more or fewer than announced, a corrupted one and bytes after the end are refused")
    func refusals() {
        let data = Self.image(3 * WireEncoding.blockSize / 2)
        let encoding = WireEncoding(shuffle: 2)
        let wire = Self.compress(data, encoding, piece: 1 << 20)
        let size = UInt64(data.count)
        #expect(Self.decompress(Array(wire.dropLast(7)), encoding, size: size, piece: 4096).bytes == nil, "truncated")
        #expect(Self.decompress(wire, encoding, size: size - 1, piece: 4096).failure?.contains("more than") == true, "longer than announced")
        #expect(Self.decompress(wire, encoding, size: size + 1, piece: 4096).failure?.contains("announced") == true, "shorter than announced")
        #expect(Self.decompress(wire + wire.prefix(8), encoding, size: size, piece: 1 << 20).bytes == nil, "bytes after the end")
        var corrupt = wire
        corrupt[corrupt.count / 2] ^= 0xFF
        corrupt[corrupt.count / 2 + 1] ^= 0x55
        let back = Self.decompress(corrupt, encoding, size: size, piece: 4096)
        // zstd's own frame checks catch most corruption; whatever gets through yields other
        // bytes, which the caller's XXH3 comparison refuses (never written under its name).
        #expect(back.bytes != data)
        #expect(Self.decompress([1, 2, 3, 4, 5, 6, 7, 8], encoding, size: size, piece: 4).bytes == nil, "not zstd at all")
    }
}
