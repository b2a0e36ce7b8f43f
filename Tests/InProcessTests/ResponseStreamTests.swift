import Glibc
import Logging
import NIOCore
import NIOHTTP1
import Testing
import SoftcopyCore
import SoftcopyHTTP
import SoftcopyIO

/// A responder whose body comes from a thread of its own in pieces (as the read view's
/// pass-through does): the answer is handed to the server after `answerAfter` pieces
/// were written, so some pieces wait for the connection and the rest race it.
private struct StreamingResponder: HTTPResponder {
    static let size = 1 << 20

    static func byte(_ i: Int) -> UInt8 { UInt8(truncatingIfNeeded: i &* 131 &+ i >> 9) }

    func respond(to request: HTTPRequest, on eventLoop: any EventLoop) -> EventLoopFuture<HTTPResponse> {
        let answerAfter = Int(request.query["after"] ?? "0") ?? 0
        let cut = request.query["cut"] != nil
        let promise = eventLoop.makePromise(of: HTTPResponse.self)
        let stream = ResponseStream()
        OSThread(name: "producer") {
            var offset = 0, piece = 0
            while offset < Self.size {
                if piece == answerAfter { promise.succeed(HTTPResponse(status: .ok, body: .stream(stream, length: Self.size))) }
                // Pieces of varied sizes, as libcurl hands them over.
                let n = min(Self.size - offset, [1, 700, 16 << 10, 100_000, 512 << 10][piece % 5])
                let bytes = (offset..<(offset + n)).map(Self.byte)
                guard bytes.withUnsafeBytes({ stream.write($0) }) else { break }
                offset += n
                piece += 1
                if cut && offset > Self.size / 2 { break }
            }
            if piece <= answerAfter { promise.succeed(HTTPResponse(status: .ok, body: .stream(stream, length: Self.size))) }
            stream.finish(complete: offset == Self.size)
        }.detach()
        return promise.futureResult
    }
}

@Suite("A streamed response body: every byte in order, whenever the connection takes it")
struct ResponseStreamTests {
    @Test("bodies written from another thread arrive whole and in order, answered before, during or after the writes; a cut producer cuts the connection; HEAD gets the length only")
    func streamed() throws {
        let server = try HTTPServer(host: "127.0.0.1", port: 0, logger: Logger(label: "test")) { _, _ in StreamingResponder() }
        defer { server.shutdown() }
        let base = "http://127.0.0.1:\(server.port)/s"
        let expected = (0..<StreamingResponder.size).map(StreamingResponder.byte)
        let client = HTTPClient(token: nil)
        for after in [0, 1, 2, 3, 7, 1000] {
            for _ in 0..<3 {
                let response = try client.request("GET", base + "?after=\(after)", headers: [], timeout: .seconds(60))
                #expect(response.status == 200 && response.body.count == expected.count && response.body == expected, "answered after \(after) pieces")
            }
        }
        #expect(throws: HTTPClientError.self, "a producer that gives up cuts the body short") {
            try client.request("GET", base + "?after=2&cut=1", headers: [], timeout: .seconds(60))
        }
        let head = try client.request("HEAD", base, headers: [], timeout: .seconds(60))
        #expect(head.status == 200 && head.header("content-length") == String(StreamingResponder.size) && head.body.isEmpty)
        // The connection serves again after all of that.
        #expect(try client.request("GET", base + "?after=1", headers: [], timeout: .seconds(60)).body == expected)
    }
}
