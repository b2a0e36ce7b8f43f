/// The dashboard's files, inside the binary (no build step, no CDN): a page, its script
/// and its style. The page holds no data; the script reads `/v1/status` and
/// `/v1/jobs/{job}` with the token and draws every value as text (`textContent`), never
/// as markup, so a file name can never become part of the page. See docs/operations.md.
enum DashboardAssets {
    struct Asset {
        var text: String
        var contentType: String
    }

    /// The asset a GET of `components` names, if any (`/`, `/index.html`, the script, the style).
    static func asset(for components: [String]) -> Asset? {
        switch components {
        case [], ["index.html"]: Asset(text: DashboardPage.html, contentType: "text/html; charset=utf-8")
        case ["dashboard.js"]: Asset(text: DashboardScript.javascript, contentType: "text/javascript; charset=utf-8")
        case ["dashboard.css"]: Asset(text: DashboardStyle.css, contentType: "text/css; charset=utf-8")
        default: nil
        }
    }
}
