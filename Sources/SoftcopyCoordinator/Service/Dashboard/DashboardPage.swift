/// The dashboard's page: its structure only (the script fills it).
enum DashboardPage {
    static let html = #"""
    <!doctype html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>softcopy</title>
    <link rel="icon" href="data:,">
    <link rel="stylesheet" href="/dashboard.css">
    </head>
    <body>
    <header>
      <h1><a href="#">softcopy</a></h1>
      <span id="host"></span>
      <span id="connection" class="muted">connecting…</span>
    </header>
    <section id="login" hidden>
      <h2>This coordinator needs its token</h2>
      <p>Paste the token of its <code>token_file</code>, or open the page as <code>http://HOST:7480/#token=TOKEN</code>.
      The token stays in this browser tab only.</p>
      <form id="login-form">
        <label>Token <input id="token-input" type="password" autocomplete="current-password" required></label>
        <button type="submit">Open</button>
      </form>
      <p id="login-error" class="bad"></p>
    </section>
    <main id="overview" hidden>
      <section>
        <h2>Jobs</h2>
        <table id="jobs">
          <thead><tr>
            <th>Source</th><th>Destination</th><th>State</th><th>Phase</th><th>Files</th><th>Bytes</th>
            <th>Rate</th><th>ETA</th><th>Pending</th><th>In flight</th><th>Succeeded</th><th>Failed</th><th>Retrying</th>
          </tr></thead>
          <tbody></tbody>
        </table>
        <p id="no-jobs" class="muted" hidden>No job yet.</p>
      </section>
      <section>
        <h2>Agents</h2>
        <table id="agents">
          <thead><tr><th>Agent</th><th>URL</th><th>State</th><th>Free</th><th>Files acked</th><th>Problem</th></tr></thead>
          <tbody></tbody>
        </table>
        <p id="no-agents" class="muted" hidden>No agent: copies are local.</p>
      </section>
      <section id="watch-section" hidden>
        <h2>Watched folders</h2>
        <ul id="watch"></ul>
      </section>
      <section>
        <h2>Last problems</h2>
        <ul id="problems"></ul>
        <p id="no-problems" class="muted" hidden>None.</p>
      </section>
      <section>
        <h2>History</h2>
        <table id="history">
          <thead><tr><th>Source</th><th>Destination</th><th>Started</th><th>Finished</th><th>Status</th><th>Files</th><th>Bytes</th><th>Problems</th><th>Agents</th></tr></thead>
          <tbody></tbody>
        </table>
        <p id="history-file" class="muted"></p>
      </section>
    </main>
    <main id="job" hidden>
      <p><a href="#">← all jobs</a></p>
      <h2 id="job-title"></h2>
      <dl id="job-facts"></dl>
      <h3>Archives</h3>
      <table id="job-targets">
        <thead><tr><th>Source</th><th>Destination</th><th>Phase</th><th>Files</th><th>Bytes</th><th>Pending</th><th>In flight</th><th>Succeeded</th><th>Failed</th><th>Retrying</th></tr></thead>
        <tbody></tbody>
      </table>
      <h3>Agents</h3>
      <ul id="job-agents"></ul>
      <h3>Event log</h3>
      <p id="job-dropped" class="muted"></p>
      <ol id="job-log"></ol>
    </main>
    <script src="/dashboard.js"></script>
    </body>
    </html>
    """#
}
