/// The dashboard's script: reads the status API every second and draws it. Every value
/// goes into the page through `textContent` (never markup), so a file or folder name such
/// as `<img src=x onerror=alert(1)>` shows as the text it is.
enum DashboardScript {
    static let javascript = #"""
    "use strict";
    (function () {
      const POLL_MS = 1000;
      const $ = (id) => document.getElementById(id);
      let token = sessionStorage.getItem("softcopy-token") || "";
      let timer = null;

      // The token may come in the URL fragment (#token=...), which browsers never send to
      // a server; it is kept for this tab and taken out of the address bar.
      function readHash() {
        const params = new URLSearchParams(location.hash.slice(1));
        if (params.has("token")) {
          token = params.get("token");
          sessionStorage.setItem("softcopy-token", token);
          params.delete("token");
          const rest = params.toString();
          history.replaceState(null, "", location.pathname + location.search + (rest ? "#" + rest : ""));
        }
        return params.get("job");
      }

      function el(tag, text, className) {
        const node = document.createElement(tag);
        if (text !== undefined && text !== null) node.textContent = String(text);
        if (className) node.className = className;
        return node;
      }

      function cell(row, text, field, className) {
        const td = el("td", text, className);
        if (field) td.dataset.field = field;
        row.appendChild(td);
        return td;
      }

      function bytes(n) {
        if (n === null || n === undefined) return "?";
        const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
        let v = Number(n), i = 0;
        while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
        return (i === 0 ? String(v) : v.toFixed(v < 10 ? 2 : 1)) + " " + units[i];
      }

      function duration(s) {
        if (s === null || s === undefined) return "—";
        s = Math.round(Number(s));
        const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
        return h > 0 ? h + "h" + String(m).padStart(2, "0") + "m" : m > 0 ? m + "m" + String(sec).padStart(2, "0") + "s" : sec + "s";
      }

      function stateClass(state) {
        if (state === "verified" || state === "verified-with-leftovers" || state === "attached") return "good";
        if (state === "running" || state === "connecting") return "";
        if (state === "interrupted") return "warn";
        return "bad";
      }

      async function get(path) {
        const headers = token ? { "Authorization": "Bearer " + token } : {};
        const response = await fetch(path, { headers: headers, cache: "no-store" });
        if (response.status === 401) {
          const error = new Error("token");
          error.unauthorized = true;
          throw error;
        }
        if (!response.ok) throw new Error(path + ": HTTP " + response.status);
        return response.json();
      }

      function showOnly(id) {
        for (const part of ["login", "overview", "job"]) $(part).hidden = part !== id;
      }

      function fill(tbody, rows) {
        tbody.replaceChildren(...rows);
      }

      function targetRow(job, target, withJob) {
        const tr = el("tr");
        tr.dataset.job = job.id;
        tr.dataset.target = target.index === undefined ? "" : String(target.index);
        const source = cell(tr, null, "source", "path");
        if (withJob) {
          const a = el("a", target.source);
          a.href = "#job=" + encodeURIComponent(job.id);
          source.appendChild(a);
        } else {
          source.textContent = target.source;
        }
        cell(tr, target.destination, "destination", "path");
        if (withJob) cell(tr, job.state, "state", stateClass(job.state));
        cell(tr, target.phase || job.stage, "phase");
        cell(tr, (target.files_done ?? 0) + " / " + (target.files_present ?? 0), "files");
        const b = cell(tr, bytes(target.bytes_done ?? 0) + " / " + bytes(target.bytes_present ?? 0), "bytes");
        b.title = (target.bytes_done ?? 0) + " / " + (target.bytes_present ?? 0) + " bytes";
        if (withJob) {
          cell(tr, job.state === "running" ? bytes(job.rate_bytes_per_second) + "/s" : "—", "rate");
          cell(tr, job.state === "running" ? duration(job.eta_seconds) : "—", "eta");
        }
        cell(tr, target.pending ?? 0, "pending");
        cell(tr, target.in_flight ?? 0, "in_flight");
        cell(tr, target.files_done ?? 0, "succeeded");
        cell(tr, target.failed ?? 0, "failed", (target.failed ?? 0) > 0 ? "bad" : "");
        cell(tr, target.retrying ?? 0, "retrying", (target.retrying ?? 0) > 0 ? "warn" : "");
        return tr;
      }

      function agentRow(agent) {
        const tr = el("tr");
        tr.dataset.agent = agent.url;
        cell(tr, agent.name || "", "name");
        cell(tr, agent.url, "url");
        cell(tr, agent.state, "state", stateClass(agent.state));
        cell(tr, agent.free_bytes === null ? "?" : bytes(agent.free_bytes), "free");
        cell(tr, agent.files_acked ?? 0, "files_acked");
        cell(tr, agent.problem || "", "problem", agent.problem ? "bad" : "");
        return tr;
      }

      function drawOverview(status) {
        $("host").textContent = status.host + " · softcopy " + status.softcopy;
        const rows = [];
        for (const job of status.jobs) {
          for (const target of job.targets) rows.push(targetRow(job, target, true));
        }
        fill($("jobs").tBodies[0], rows);
        $("no-jobs").hidden = rows.length > 0;
        fill($("agents").tBodies[0], status.agents.map(agentRow));
        $("no-agents").hidden = status.agents.length > 0;
        $("watch-section").hidden = status.watch.length === 0;
        $("watch").replaceChildren(...status.watch.map((w) => el("li", w.folder + " (" + w.pattern + ") → " +
          (w.destination_as_written === w.destination ? w.destination
            : w.destination_as_written + " (under each agent's root; " + w.destination + " when copied here)"))));
        const problems = [];
        for (const job of status.jobs) {
          for (const p of job.problems) problems.push(el("li", p.time + " " + p.level + ": " + p.message, p.level === "error" ? "bad" : "warn"));
        }
        $("problems").replaceChildren(...problems.slice(-20));
        $("no-problems").hidden = problems.length > 0;
        fill($("history").tBodies[0], status.history.map((h) => {
          const tr = el("tr");
          tr.dataset.row = String(h.row);
          cell(tr, h.source, "source", "path");
          cell(tr, h.destination, "destination", "path");
          cell(tr, h.started, "started");
          cell(tr, h.finished || "", "finished");
          cell(tr, h.status, "status", stateClass(h.status));
          cell(tr, h.files, "files");
          cell(tr, bytes(h.bytes), "bytes");
          const p = cell(tr, h.problems, "problems", h.problems > 0 ? "bad" : "");
          p.title = h.first_problems.join("\n");
          cell(tr, h.agents.join(", "), "agents");
          return tr;
        }));
        $("history-file").textContent = status.history_file ? "History: " + status.history_file : "No history file.";
      }

      function drawJob(job) {
        $("job-title").textContent = "Job " + job.id + " · " + job.state;
        const facts = [
          ["State", job.state], ["Stage", job.stage], ["Started", job.started], ["Finished", job.finished || "—"],
          ["Elapsed", duration(job.elapsed_seconds)], ["Rate", bytes(job.rate_bytes_per_second) + "/s"],
          ["ETA", duration(job.eta_seconds)], ["Retries", job.retries],
          ["Watched folder", job.watch_folder || "—"], ["Targets file", job.targets_file || "—"],
        ];
        $("job-facts").replaceChildren(...facts.flatMap(([k, v]) => {
          const dd = el("dd", v);
          dd.dataset.field = k.toLowerCase().replace(/ /g, "_");
          return [el("dt", k), dd];
        }));
        fill($("job-targets").tBodies[0], job.targets.map((t) => targetRow(job, t, false)));
        $("job-agents").replaceChildren(...(job.agents.length === 0 ? [el("li", "none: this coordinator copies to the destination itself", "muted")]
          : job.agents.map((a) => el("li", (a.name || a.url) + " · " + a.state + " · " + (a.free_bytes === null ? "?" : bytes(a.free_bytes)) + " free"))));
        const log = job.log || { events: [], dropped: 0 };
        $("job-dropped").textContent = log.dropped > 0 ? log.dropped + " older events are not shown (see the coordinator's log)." : "";
        $("job-log").replaceChildren(...log.events.map((e) => el("li", e.time + " " + e.level + ": " + e.message, e.level)));
      }

      async function refresh() {
        const jobId = readHash();
        try {
          if (jobId) {
            drawJob(await get("/v1/jobs/" + encodeURIComponent(jobId)));
            showOnly("job");
          } else {
            drawOverview(await get("/v1/status"));
            showOnly("overview");
          }
          $("connection").textContent = "updated " + new Date().toLocaleTimeString();
          // How many times the page was drawn: a test reads it to know the page is newer than a read of its own.
          document.body.dataset.refreshes = String(Number(document.body.dataset.refreshes || 0) + 1);
          $("connection").className = "muted";
        } catch (error) {
          if (error.unauthorized) {
            if (token) $("login-error").textContent = "That token was refused.";
            showOnly("login");
            return;
          }
          $("connection").textContent = "not reachable: " + error.message;
          $("connection").className = "bad";
        } finally {
          clearTimeout(timer);
          timer = setTimeout(refresh, POLL_MS);
        }
      }

      $("login-form").addEventListener("submit", (event) => {
        event.preventDefault();
        token = $("token-input").value.trim();
        sessionStorage.setItem("softcopy-token", token);
        $("login-error").textContent = "";
        refresh();
      });
      window.addEventListener("hashchange", refresh);
      refresh();
    })();
    """#
}
