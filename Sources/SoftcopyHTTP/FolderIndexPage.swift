public import SoftcopyCore

/// A folder of the read view as a web page of relative links, the form fsspec's HTTP file
/// system lists (it reads the `href`s of a page and joins each to the folder's URL, so a
/// link is the bare name: `./name` would become a `.` in zarr-python's keys; zarr-python
/// lists a group's members through it). Each name is percent-escaped in its link, so no
/// quote or `>` can end the attribute and no `:` makes it a scheme, and HTML-escaped in
/// its text; folders end with `/`, as fsspec expects.
public enum FolderIndexPage {
    public static func html(title: String, entries: [ReadViewAnswer.Entry]) -> String {
        var out = "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>\(escape(title))</title></head><body>\n<h1>\(escape(title))</h1>\n<ul>\n"
        for entry in entries.sorted(by: { $0.name < $1.name }) {
            let slash = entry.isFolder ? "/" : ""
            out += "<li><a href=\"\(URLCoding.encodePath(entry.name))\(slash)\">\(escape(entry.name))\(slash)</a></li>\n"
        }
        return out + "</ul>\n</body></html>\n"
    }

    /// Text as HTML character data and attribute values.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}
