/// Bytes read from the source and sent for an archive, over the bytes of its copies as
/// they end: 1 when every chunk went once, more when versions a writer replaced were
/// sent too (docs/readiness.md, "Chunks written several times"), less when a resumed run
/// found part of the copy already there.
public enum Amplification {
    /// `copies` is how many copies of each file are kept (`replicas`); nil before the
    /// archive holds a byte.
    public static func ratio(copiedBytes: UInt64, archiveBytes: UInt64, copies: Int = 1) -> Double? {
        let whole = Double(archiveBytes) * Double(max(copies, 1))
        return whole > 0 ? Double(copiedBytes) / whole : nil
    }

    /// "1.04×".
    public static func format(_ ratio: Double) -> String {
        Quantity.format(ratio, decimals: 2) + "×"
    }
}
