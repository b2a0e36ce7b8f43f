public import SoftcopyCore
import SoftcopyIO
import Glibc

/// Reads a targets file from disk: libyaml for the syntax, the core for the meaning.
public enum TargetsFileLoader {
    public static func load(_ path: String) throws(ConfigError) -> TargetsFile {
        let bytes: [UInt8]
        do {
            guard let status = try FileStatus.of(path) else {
                throw ConfigError(file: path, mark: nil, message: "no such file")
            }
            guard status.kind == .regular else {
                throw ConfigError(file: path, mark: nil, message: "not a regular file")
            }
            bytes = try readSmallFile(path, limit: 16 << 20)
        } catch let error as ConfigError {
            throw error
        } catch {
            throw ConfigError(file: path, mark: nil, message: "cannot read it: \((error as? SystemError)?.reason ?? "\(error)")")
        }
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw ConfigError(file: path, mark: nil, message: "is not UTF-8 text")
        }
        let document = try YAMLLoader.load(bytes, file: path)
        let absolute = PathNormalizer.absolute(path, base: ProcessEnvironment.currentDirectory(), home: nil)
        return try TargetsFile.parse(
            document, file: path, baseDirectory: PathNormalizer.directory(of: absolute), home: ProcessEnvironment.homeDirectory())
    }

}
