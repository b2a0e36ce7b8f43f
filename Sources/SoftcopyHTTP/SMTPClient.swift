import CCurl
import CCurlShims
import SoftcopyCore

/// Sends one mail through an SMTP relay with libcurl (`notify: email:`): the facility's
/// relay, which takes mail from the acquisition PC without a login, as most do. The one
/// place softcopy speaks SMTP; the message is written by the caller.
public enum SMTPClient {
    /// `server`: `smtp://host[:port]` (or `smtps://`, checked against the system's CAs).
    public static func send(server: String, from: String, to: [String], message: [UInt8], timeout: Duration) throws(HTTPClientError) {
        _ = HTTPClient.globalInit
        guard let handle = curl_easy_init() else { throw HTTPClientError(code: 0, message: "curl_easy_init failed", url: server, abortedByCaller: false) }
        defer { curl_easy_cleanup(handle) }
        var recipients: UnsafeMutablePointer<curl_slist>?
        for address in to { recipients = curl_slist_append(recipients, "<\(address)>") }
        defer { curl_slist_free_all(recipients) }
        let upload = Upload(message)
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        defer { errorBuffer.deallocate() }
        softcopy_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        softcopy_curl_setopt_string(handle, CURLOPT_URL, server)
        softcopy_curl_setopt_string(handle, CURLOPT_MAIL_FROM, "<\(from)>")
        softcopy_curl_setopt_pointer(handle, CURLOPT_MAIL_RCPT, recipients)
        softcopy_curl_setopt_long(handle, CURLOPT_UPLOAD, 1)
        softcopy_curl_setopt_off(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(message.count))
        softcopy_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int(timeout.secondsValue * 1000))
        softcopy_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, 5000)
        softcopy_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer)
        softcopy_curl_setopt_read_function(handle, { buffer, size, count, userdata in
            let upload = Unmanaged<Upload>.fromOpaque(userdata!).takeUnretainedValue()
            return upload.read(into: buffer!, capacity: size * count)
        })
        let code = withExtendedLifetime(upload) { () -> CURLcode in
            softcopy_curl_setopt_pointer(handle, CURLOPT_READDATA, Unmanaged.passUnretained(upload).toOpaque())
            return curl_easy_perform(handle)
        }
        guard code == CURLE_OK else {
            let detail = String(cString: errorBuffer)
            throw HTTPClientError(code: Int(code.rawValue), message: detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail,
                                  url: server, abortedByCaller: false)
        }
    }

    /// The message's bytes, handed to libcurl piece by piece.
    private final class Upload {
        let bytes: [UInt8]
        var offset = 0

        init(_ bytes: [UInt8]) {
            self.bytes = bytes
        }

        func read(into buffer: UnsafeMutablePointer<CChar>, capacity: Int) -> Int {
            let n = min(capacity, bytes.count - offset)
            bytes.withUnsafeBytes { source in
                UnsafeMutableRawPointer(buffer).copyMemory(from: source.baseAddress! + offset, byteCount: n)
            }
            offset += n
            return n
        }
    }
}
