import Glibc
public import SoftcopyIO

/// What of a file sits in the page cache (mincore over a mapping that is never touched):
/// tests use it to tell a file written with O_DIRECT from one written through the cache.
public enum PageCache {
    /// Pages of `path` in the page cache, and the pages it spans.
    public static func residentPages(of path: String) throws(SystemError) -> (resident: Int, total: Int) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError("open", path: path) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw SystemError("fstat", path: path) }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let total = (Int(st.st_size) + page - 1) / page
        guard total > 0 else { return (0, 0) }
        guard let mapping = mmap(nil, Int(st.st_size), PROT_READ, MAP_SHARED, fd, 0), mapping != MAP_FAILED else {
            throw SystemError("mmap", path: path)
        }
        defer { munmap(mapping, Int(st.st_size)) }
        var vector = [UInt8](repeating: 0, count: total)
        guard mincore(mapping, Int(st.st_size), &vector) == 0 else { throw SystemError("mincore", path: path) }
        return (vector.reduce(0) { $0 + Int($1 & 1) }, total)
    }
}
