import CXXHash
public import SoftcopyCore

/// Streaming XXH3-128 (libxxhash): fed piece by piece as a file is read or received, so
/// the checksum costs no extra pass over the data.
public final class XXH3Hasher {
    private let state: OpaquePointer

    public init() {
        state = XXH3_createState()
        XXH3_128bits_reset(state)
    }

    deinit {
        XXH3_freeState(state)
    }

    public func reset() {
        XXH3_128bits_reset(state)
    }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        XXH3_128bits_update(state, bytes.baseAddress, bytes.count)
    }

    public func digest() -> Checksum {
        let h = XXH3_128bits_digest(state)
        return Checksum(high: h.high64, low: h.low64)
    }

    /// The checksum of a whole buffer in one call.
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> Checksum {
        let h = XXH3_128bits(bytes.baseAddress, bytes.count)
        return Checksum(high: h.high64, low: h.low64)
    }

    public static func checksum(_ bytes: [UInt8]) -> Checksum {
        bytes.withUnsafeBytes { checksum($0) }
    }
}
