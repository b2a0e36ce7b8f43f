import Glibc
import Logging
import NIOCore
import NIOHTTP1
import Synchronization
import SoftcopyCore
import SoftcopyHTTP
import SoftcopyIO

extension Agent {
    func listing(_ request: HTTPRequest, path: String) -> HTTPResponse {
        let base: RelativePath
        do {
            if let destination = request.query["destination"] {
                base = try JobAttachment.resolve(destination: destination, root: configuration.root)
            } else {
                base = try Self.path(path)
            }
        } catch {
            return .error(.badRequest, error.message)
        }
        if configuration.objectStore != nil {
            return objectListing(base, checksums: request.queryFlag("checksums") || request.queryFlag("verify"), verify: request.queryFlag("verify"))
        }
        checkRoot()
        return withRoot { root in
            let builder = AgentListingBuilder(tree: root, checksums: request.queryFlag("checksums") || request.queryFlag("verify"),
                                              verify: request.queryFlag("verify"), records: records)
            do throws(SystemError) {
                if !base.isRoot {
                    // Refuses a symlink anywhere on the way, like every other path here.
                    _ = try root.openDirectory(base, create: false)
                }
                guard let listing = try builder.listing(base, recursive: request.queryFlag("recursive")) else {
                    return .error(.notFound, "\(base) is not a folder under \(configuration.root)")
                }
                return .json(pieces: listing)
            } catch where error.isNotFound {
                return .error(.notFound, "\(base) is not a folder under \(configuration.root)")
            } catch {
                return .error(.forbidden, "cannot list \(base): \(error)")
            }
        }
    }

    /// A file under the root, with its record's checksum and version when it has one (the
    /// read view's pass-through checks them), and one byte range if asked.
    func file(_ request: HTTPRequest, path text: String) -> HTTPResponse {
        let path: RelativePath
        do {
            path = try Self.path(text)
        } catch {
            return .error(.badRequest, error.message)
        }
        return withRoot { root in
            do throws(SystemError) {
                guard let fd = try root.openForReading(path) else { return .error(.notFound, "no file \(path) under \(configuration.root)") }
                let status = try fd.status()
                guard status.kind == .regular else { return .error(.notFound, "\(path) is not a file") }
                let record = records.record(for: status) ?? WrittenRecord.current(on: fd, status: status)
                let plan = ReadViewResponse.plan(for: request, size: status.version.size, checksum: record?.checksum, cors: false)
                guard case .send(let code, let offset, let length, var headers) = plan else {
                    if case .answer(let response) = plan { return response }
                    return .error(.internalServerError, "no plan for \(path)")
                }
                if let record {
                    headers.add(name: SoftcopyHeaders.checksum, value: record.checksum.hex)
                    headers.add(name: SoftcopyHeaders.version, value: record.version.token)
                }
                let raw = fd.release()
                return HTTPResponse(status: code, headers: headers,
                                    body: .file(NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: raw), offset: Int(offset), length: Int(length)))
            } catch where error.isNotFound {
                return .error(.notFound, "no file \(path) under \(configuration.root)")
            } catch {
                return .error(.forbidden, "cannot open \(path): \(error)")
            }
        }
    }

    static func path(_ joined: String) throws(ProtocolError) -> RelativePath {
        do {
            return try RelativePath(validating: joined)
        } catch {
            throw ProtocolError("bad path \(joined.debugDescription): \(error)")
        }
    }
}
