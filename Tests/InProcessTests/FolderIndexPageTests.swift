import Testing
import SoftcopyCore
import SoftcopyHTTP

@Suite("Read view: a folder as a page of relative links")
struct FolderIndexPageTests {
    @Test("every name is a relative link that decodes back to it, folders end with /, and no name becomes markup")
    func links() throws {
        let names = ["zarr.json", "c", "a\"b'c>d<e&f.zarr", "space name", "café"]
        let page = FolderIndexPage.html(title: "acq.zarr/<x>", entries: names.map { .init(name: $0, isFolder: $0 == "c" || $0.hasSuffix(".zarr")) })
        var hrefs: [String] = []
        var rest = Substring(page)
        while let start = rest.firstRange(of: "href=\"") {
            let tail = rest[start.upperBound...]
            let end = try #require(tail.firstIndex(of: "\""))
            hrefs.append(String(tail[..<end]))
            rest = tail[end...]
        }
        let decoded = hrefs.map { URLCoding.decode($0) }
        #expect(Set(decoded.compactMap { $0 }) == ["zarr.json", "c/", "a\"b'c>d<e&f.zarr/", "space name", "café"], "\(hrefs)")
        #expect(hrefs.allSatisfy { !$0.hasPrefix(".") && !$0.contains(":") }, "bare names, joined by fsspec as they are")
        #expect(!page.contains("<x>") && page.contains("&lt;x&gt;"))
        #expect(page.contains(">a&quot;b&#39;c&gt;d&lt;e&amp;f.zarr/</a>"))
    }
}
