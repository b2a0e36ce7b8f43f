public import SoftcopyCore

extension HTTPClient {
    /// A request to `route` on the server at `base`, its answer collected in memory.
    public func request(
        _ route: Route, at base: String, query: [(name: String, value: String)] = [], json: JSONValue? = nil, headers: [String] = [],
        timeout: Duration
    ) throws(HTTPClientError) -> HTTPClientResponse {
        try request(route.method, route.url(base, query: query), json: json, headers: headers, timeout: timeout)
    }

    /// A request to `route` whose body is already written (a manifest of a million files).
    public func request(_ route: Route, at base: String, body: [UInt8], contentType: String = "application/json",
                        timeout: Duration) throws(HTTPClientError) -> HTTPClientResponse {
        try request(route.method, route.url(base), body: body, contentType: contentType, timeout: timeout)
    }
}
