public import NIOHTTP1
public import SoftcopyCore

extension WireCompressionPolicy.Request {
    /// What an agent's chunk or bundle request says of its decoding and its link.
    public init(headers: HTTPHeaders) {
        let accepts = headers[SoftcopyHeaders.acceptEncoding].contains { value in
            value.split(separator: ",").contains { $0.trimmingPrefix(" ").hasPrefix("zstd") }
        }
        let rate = headers.first(name: SoftcopyHeaders.linkRate).flatMap(Double.init).flatMap { $0.isFinite && $0 > 0 ? $0 : nil }
        self.init(accepts: accepts, linkRate: rate)
    }
}
