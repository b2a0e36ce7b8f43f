import SoftcopyCore
import SoftcopyIO

func statusOf(_ path: String) throws -> FileVersion? {
    try FileStatus.of(path)?.version
}
