import Glibc
import Testing
import SoftcopyCore
import SoftcopyHTTP
import SoftcopyIO
import SoftcopyTesting

extension IntegrationTests {
    @Test("The dashboard in a real browser (headless chromium) during a live copy: the page's numbers match the status API, an archive named as HTML shows as text, the token is asked for, and the job's page shows its event log")
    func dashboardInBrowser() throws {
        for (path, what) in [("/usr/bin/chromium", "Debian's chromium"), ("/usr/bin/chromedriver", "Debian's chromium-driver")] {
            try #require((try? FileStatus.of(path)) != nil, "\(what) is missing at \(path) (scripts/setup.sh installs it)")
        }
        let dir = TestDirectory("dashboard")
        let acq = dir.appending("acq"), nas = dir.appending("nas")
        #expect(mkdir(acq, 0o755) == 0)
        let token = "dashboard-test-token"
        TestDirectory.write(token + "\n", to: dir.appending("token"), mode: 0o600)
        let targets = Self.watchTargets(dir, [(acq, nas)], extra: "token_file: \(dir.appending("token"))")
        let (service, url) = try Self.service(targets, in: dir)
        defer { if service.isRunning { service.signal(SIGKILL) } }
        #expect(try HTTPClient(token: nil).request("GET", url + "/v1/status", timeout: .seconds(5)).status == 401, "the data needs the token")
        #expect(try HTTPClient(token: nil).request("GET", url + "/", timeout: .seconds(5)).status == 200, "the page itself holds no data")

        // A slow acquisition (about 20 s) whose name is markup.
        let source = acq + "/<img src=x onerror=alert(1)>.zarr"
        let writer = try ChildProcess([Tools.python, Tools.acquire, source, "--shape", "60,1,128,128", "--rate", "0.1", "--complete"],
                                      logPrefix: dir.appending("writer"))
        defer { if writer.isRunning { writer.signal(SIGKILL) } }
        let out = dir.appending("page.json")
        try? DestinationTree.makeDirectories(Tools.artifacts)
        let screenshot = Tools.artifacts + "/dashboard-job.png"
        let browser = try ChildProcess.run([Tools.python, Tools.dashboardCheck, url, source, out, screenshot, "--token", token, "--timeout", "60"],
                                           timeout: .seconds(180))
        try #require(browser.code == 0, "\(browser.stderr)\n\(service.stderr)")
        let page = try JSONParser.parse(bytes: readSmallFile(out))

        #expect(page["login_without_token"]?.boolValue == true)
        #expect(page["wrong_token_message"]?.stringValue?.contains("refused") == true, "\(page)")
        #expect(page["fragment_removed"]?.boolValue == true, "the token leaves the address bar")
        // Read between two reads of the status API, while the copy is live.
        let cells = try #require(page["page"])
        let before = try #require(page["before"]), after = try #require(page["after"])
        #expect(cells["state"]?.stringValue == "running" && page["job_before"]?["state"]?.stringValue == "running")
        #expect(cells["source"]?.stringValue == source, "the name shows as the text it is: \(cells)")
        let files = (cells["files"]?.stringValue ?? "").split(separator: "/").map { Int($0.trimmingWhitespace()) }
        let done = try #require(files.first ?? nil)
        let lower = try #require(before["files_done"]?.int64Value), upper = try #require(after["files_done"]?.int64Value)
        #expect(lower <= Int64(done) && Int64(done) <= upper, "page \(done), API \(lower)...\(upper)")
        #expect(done > 0, "counts never show 0 once files have landed")
        #expect(cells["succeeded"]?.stringValue == String(done))
        let present = try #require(files.count == 2 ? files[1] : nil)
        #expect(Int64(present) >= (before["files_present"]?.int64Value ?? .max) && Int64(present) <= (after["files_present"]?.int64Value ?? -1))
        #expect(cells["failed"]?.stringValue == "0" && cells["retrying"]?.stringValue == "0")
        #expect(page["img_elements"]?.int64Value == 0 && page["img_elements_job_page"]?.int64Value == 0, "no markup from a file name")
        #expect(page["alert"]?.boolValue == false && page["alert_job_page"]?.boolValue == false)
        #expect(page["job_source"]?.stringValue == source)
        #expect(page["job_log"]?.arrayValue?.contains { $0.stringValue?.contains("watching \(source)") == true } == true, "\(page["job_log"] ?? .null)")
        #expect(((try? FileStatus.of(screenshot))??.version.size ?? 0) > 10_000, "a screenshot of the job's page")

        #expect(try writer.wait(timeout: .seconds(120)) == 0, "\(writer.stderr)")
        try ChildProcess.waitUntil(timeout: .seconds(60), "the copy verified") { Self.verified((try? Self.historyRows(dir)) ?? [], source) }
        #expect(try TreeComparison.differences(source: source, destination: nas + "/<img src=x onerror=alert(1)>.zarr") == [])
        try Self.waitForJobs(url, count: 1, token: token)
        service.signal(SIGTERM)
        #expect(try service.wait(timeout: .seconds(60)) == ExitStatus.verified.rawValue)
    }
}
