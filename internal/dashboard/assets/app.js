// cutover dashboard: no framework, no build step. State arrives over server-sent events
// (/ui/stream); actions go to the control API under /ui/api with the session's CSRF value.
// Nothing polls the daemon: the page fetches a service's history, series, logs and
// migrations when it is selected and again when an event about it arrives.
"use strict";
(function () {
  const $ = (sel) => document.querySelector(sel);
  const KEEP = 360; // samples kept per revision: an hour at one per 10 s
  let csrf = "", source = null, services = [], selected = "", pending = null, shown = "";
  let latest = { services: {} };
  let loads = new AbortController(); // aborted at logout: no answer comes back to a login form
  const series = {}; // service → revision → points, oldest first

  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function row(cells) {
    const tr = el("tr");
    for (const c of cells) { const td = el("td"); if (c instanceof Node) td.appendChild(c); else td.textContent = c; tr.appendChild(td); }
    return tr;
  }
  function pct(n) { return (100 * n).toFixed(2) + "%"; }
  function api(path) { return `/ui/api/v1/services/${encodeURIComponent(selected)}/${path}`; }
  function fill(sel, rows) { const b = $(sel); b.replaceChildren(...rows); }
  function bytes(n) { return n >= 1 << 20 ? (n / (1 << 20)).toFixed(1) + " MiB" : Math.round(n / 1024) + " KiB"; }
  function ago(ms) { const s = Math.max(0, Math.round(ms / 1000)); return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`; }

  async function call(method, path, body) {
    const opts = { method, headers: { "X-Cutover-CSRF": csrf }, credentials: "same-origin", signal: loads.signal };
    if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    const r = await fetch(path, opts);
    const text = await r.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = { error: text }; }
    if (r.status === 401) showLogin("your session ended: log in again");
    return { ok: r.ok, status: r.status, data };
  }

  async function text(path) {
    const r = await fetch(path, { credentials: "same-origin", signal: loads.signal });
    return { ok: r.ok, status: r.status, text: await r.text() };
  }

  function showLogin(msg) {
    if (source) { source.close(); source = null; }
    loads.abort();
    loads = new AbortController();
    $("#app").hidden = true; $("#logout").hidden = true; $("#login").hidden = false;
    $("#login-error").textContent = msg || "";
    setLive(false);
  }
  function setLive(on) { const l = $("#live"); l.className = on ? "on" : "off"; l.textContent = on ? "live" : "offline"; }

  async function start() {
    const r = await fetch("/ui/session", { credentials: "same-origin" });
    const s = r.ok ? await r.json() : {};
    if (!s.logged_in) { showLogin(""); return; }
    csrf = s.csrf;
    $("#login").hidden = true; $("#app").hidden = false; $("#logout").hidden = false;
    connect(); loadFlags();
  }

  function connect() {
    if (source) source.close();
    source = new EventSource("/ui/stream");
    source.onopen = () => {
      setLive(true);
      const l = $("#live");
      l.dataset.connects = String(Number(l.dataset.connects || 0) + 1); // reconnections show, for people and tests
      if (selected) loadDetail();
    };
    source.onerror = async () => {
      setLive(false);
      const r = await fetch("/ui/session", { credentials: "same-origin" }).catch(() => null);
      const s = r && r.ok ? await r.json() : null;
      if (s && !s.logged_in) showLogin("your session ended: log in again");
    };
    source.addEventListener("services", (e) => { services = JSON.parse(e.data); render(); });
    source.addEventListener("event", (e) => addEvent(JSON.parse(e.data)));
    source.addEventListener("samples", (e) => addSamples(JSON.parse(e.data)));
    source.addEventListener("logout", () => showLogin("your session ended: log in again"));
  }

  function addEvent(ev) {
    const li = el("li", `${ev.time.slice(11, 23)} ${ev.service || "-"} ${ev.type}: ${ev.message}`);
    li.dataset.type = ev.type;
    const list = $("#events");
    list.insertBefore(li, list.firstChild);
    while (list.children.length > 200) list.removeChild(list.lastChild);
    if (ev.type.startsWith("flag") && source) loadFlags();
    if (ev.service && ev.service === selected) loadDetailSoon();
  }

  // addSamples appends a sampling round's points and redraws what shows them.
  function addSamples(l) {
    latest = l;
    for (const [svc, revs] of Object.entries(l.services || {})) {
      const m = series[svc] || (series[svc] = {});
      for (const [rev, p] of Object.entries(revs)) {
        const pts = m[rev] || (m[rev] = []);
        if (!pts.length || Date.parse(pts[pts.length - 1].t) < Date.parse(p.t)) pts.push(p);
        while (pts.length > KEEP) pts.shift();
      }
    }
    render();
  }

  function canaryOf(s) {
    const d = s.deployment;
    return d && d.to !== s.stable ? d.to : "";
  }

  // perRevision is the newest sample of each revision: rate, error rate and p99.
  function perRevision(s) {
    const revs = (latest.services || {})[s.name] || {};
    return Object.entries(revs).sort((a, b) => b[0] - a[0]).map(([r, p]) =>
      `r${r}: ${p.rate.toFixed(1)}/s, ${pct(p.error_rate)} errors, p99 ${p.p99_ms.toFixed(1)} ms`).join("; ") || "-";
  }
  function usage(s) {
    let cpu = 0, mem = 0, seen = false;
    for (const i of s.instances || []) if (i.memory_bytes) { seen = true; cpu += i.cpu_percent || 0; mem += i.memory_bytes; }
    return seen ? `${cpu.toFixed(1)}% CPU, ${bytes(mem)}` : "-";
  }

  function render() {
    if (!selected && services.length) selected = services[0].name;
    fill("#services tbody", services.map((s) => {
      const d = s.deployment || s.last_deployment;
      const weights = Object.entries(s.weights || {}).map(([r, w]) => `r${r}:${w}%`).join(" ");
      const ready = s.instances.filter((i) => i.ready).length;
      const tr = row([s.name, s.stable, canaryOf(s), weights, perRevision(s), `${ready}/${s.instances.length} ready`, usage(s),
        d ? `#${d.id} ${d.status} (${d.phase})` : "-"]);
      tr.dataset.service = s.name;
      if (s.name === selected) tr.className = "selected";
      tr.addEventListener("click", () => { selected = s.name; render(); });
      return tr;
    }));
    renderDetail(services.find((s) => s.name === selected));
  }

  function renderDetail(s) {
    $("#detail").hidden = !s;
    if (!s) return;
    $("#svc-name").textContent = s.name;
    if (shown !== s.name) { shown = s.name; loadDetail(); }
    const d = s.deployment || s.last_deployment, box = $("#deployment");
    box.replaceChildren();
    if (d) {
      box.appendChild(el("p", `deployment #${d.id} (${d.kind}, ${d.strategy}) revision ${d.from} → ${d.to}: ` +
        `${d.status}, step ${d.step}, ${d.phase}` + (d.reason ? ` — ${d.reason}` : ""), "status-" + d.status));
      box.firstChild.id = "deployment-status";
    }
    renderSteps(d);
    renderVerdict(d && d.verdict);
    fill("#instances tbody", s.instances.map((i) => row([i.id, i.revision, i.state, i.ready ? "yes" : "no", i.live ? "yes" : "no",
      i.target ? "yes" : "no", i.restarts, i.cpu_percent !== undefined ? i.cpu_percent.toFixed(1) + "%" : "-",
      i.memory_bytes ? bytes(i.memory_bytes) : "-", i.message || ""])));
    const numbers = new Set([...Object.keys(s.weights || {}), ...Object.keys(s.traffic || {})]);
    fill("#traffic tbody", [...numbers].sort((a, b) => b - a).map((r) => {
      const c = (s.traffic || {})[r] || { requests: 0, errors: 0 };
      return row([r, ((s.weights || {})[r] || 0) + "%", c.requests, c.errors, c.requests ? pct(c.errors / c.requests) : "-"]);
    }));
    drawCharts();
  }

  // renderSteps lists a canary's steps: done, the current one with its time so far, next.
  function renderSteps(d) {
    const list = $("#steps");
    list.replaceChildren();
    if (!d || !d.steps) return;
    const active = d.status === "running" || d.status === "paused";
    d.steps.forEach((name, i) => {
      const n = i + 1;
      let state = n < d.step || (!active && d.status === "succeeded") ? "done" : n === d.step && active ? "current" : "next";
      const li = el("li", `${name} — ${state}`, "step-" + state);
      li.dataset.step = n;
      li.dataset.state = state;
      if (state === "current") {
        const t = el("span", "", "step-time");
        t.id = "step-time";
        t.dataset.since = d.step_started_at;
        li.appendChild(t);
      }
      list.appendChild(li);
    });
    tickStep();
  }
  function tickStep() {
    const t = $("#step-time");
    if (t && t.dataset.since) t.textContent = ` (${ago(Date.now() - Date.parse(t.dataset.since))} in step)`;
  }
  setInterval(tickStep, 1000); // a clock on the page, not a request

  function drawCharts() {
    const byRev = series[selected] || {}, now = Date.now();
    window.cutoverCharts.draw($("#chart-errors"), byRev, (p) => 100 * p.error_rate, (v) => v.toFixed(1) + "%", now);
    window.cutoverCharts.draw($("#chart-p99"), byRev, (p) => p.p99_ms, (v) => v.toFixed(0) + " ms", now);
  }

  function renderVerdict(v) {
    const box = $("#verdict");
    box.replaceChildren();
    if (!v) return;
    const said = v.summary ? `verdict: ${v.summary}` : `verdict: ${v.outcome}` + (v.rule ? ` (rule ${v.rule})` : "") + ` — ${v.reason}`;
    box.appendChild(el("p", said, "verdict-" + v.outcome));
    if (!v.evidence) return;
    const dl = el("dl");
    dl.id = "evidence";
    const add = (k, val) => { dl.appendChild(el("dt", k)); dl.appendChild(el("dd", typeof val === "object" ? JSON.stringify(val) : val)); };
    for (const [k, val] of Object.entries(v.evidence)) add(k, val);
    box.appendChild(dl);
  }

  // loadDetail fetches what the stream does not carry: the series of the last hour, revision
  // history, migrations and the tail of the logs. loadDetailSoon gathers a burst of events.
  let soon = null;
  function loadDetailSoon() { if (!soon) soon = setTimeout(() => { soon = null; loadDetail(); }, 300); }
  async function loadDetail() {
    const svc = selected, s = services.find((x) => x.name === svc);
    if (!svc || !source) return; // logged out: nothing to ask
    const withDB = !!(s && s.database);
    const got = await Promise.all([call("GET", api("series")), call("GET", api("history")),
      call("GET", api("deployments") + "?limit=10"), withDB ? call("GET", api("migrations")) : null, text(api("logs"))]).catch(() => null);
    if (!got) return; // aborted by a logout
    const [sr, hist, deps, mig, logs] = got;
    if (svc !== selected) return;
    if (sr.ok && sr.data) {
      const m = series[svc] || (series[svc] = {});
      for (const [rev, pts] of Object.entries(sr.data.revisions || {})) {
        const byTime = new Map((m[rev] || []).concat(pts).map((p) => [p.t, p]));
        m[rev] = [...byTime.values()].sort((a, b) => Date.parse(a.t) - Date.parse(b.t)).slice(-KEEP);
      }
      drawCharts();
    }
    const ended = new Map((deps.ok ? deps.data : []).map((d) => [d.to, d]));
    fill("#history tbody", (hist.ok ? hist.data : []).slice().reverse().map((r) => {
      const d = ended.get(r.number);
      const tr = row([r.number, r.image || [r.command, ...(r.args || [])].join(" "), r.created_at.slice(0, 19).replace("T", " "),
        r.created_by || "", (r.stable ? "stable" : "") + (r.warm ? " warm" : ""), d ? `#${d.id} ${d.status}` : "", r.message || ""]);
      tr.dataset.revision = r.number;
      return tr;
    }));
    renderMigrations(mig);
    const lines = logs.text.split("\n").filter((l) => l !== "");
    $("#logs").textContent = logs.ok ? lines.slice(-40).join("\n") || "(no output yet)" : `(logs refused: ${logs.status})`;
  }

  function renderMigrations(r) {
    const rows = [];
    if (!r) { fill("#migrations tbody", rows); $("#migrations-note").textContent = "no database in the spec"; return; }
    if (r.ok && r.data && Array.isArray(r.data.migrations)) {
      for (const m of r.data.migrations) {
        let state = "pending";
        if (m.expand) state = m.has_contract && !m.contract ? "expand applied, contract pending" : "applied";
        if ((m.contract_blocked_by || []).length) state += ` (blocked by running r${m.contract_blocked_by.join(", r")})`;
        const tr = row([m.version, m.name, state]);
        tr.dataset.migration = m.version;
        rows.push(tr);
      }
    }
    fill("#migrations tbody", rows);
    $("#migrations-note").textContent = r.ok ? (rows.length ? "" : "no migrations") : `migrations: ${(r.data || {}).error || r.status}`;
  }

  function ask(text, run) {
    pending = run;
    $("#confirm-text").textContent = text;
    $("#confirm").hidden = false;
  }
  function outcome(what, r) {
    const o = $("#outcome");
    o.className = r.ok ? "ok" : "error";
    const d = r.data || {};
    o.textContent = r.ok ? `${what}: done` + (d.id ? ` (deployment #${d.id} ${d.status})` : "") : `${what}: refused (${r.status}) ${d.error || ""}`;
  }

  for (const b of document.querySelectorAll("#actions button")) {
    b.addEventListener("click", () => {
      const action = b.dataset.action, svc = selected;
      let body, label = `${action} ${svc}`;
      if (action === "rollback") {
        const to = parseInt($("#rollback-to").value, 10);
        body = to > 0 ? { to } : {};
        label += to > 0 ? ` to revision ${to}` : " to the previous revision";
      }
      ask(label + "?", async () => outcome(label, await call("POST", `/ui/api/v1/services/${encodeURIComponent(svc)}/${action}`, body)));
    });
  }
  $("#confirm-yes").addEventListener("click", async () => { $("#confirm").hidden = true; const run = pending; pending = null; if (run) await run(); });
  $("#confirm-no").addEventListener("click", () => { $("#confirm").hidden = true; pending = null; });

  async function loadFlags() {
    const got = await Promise.all([call("GET", "/ui/api/v1/flags"), call("GET", "/ui/api/v1/flag-history?limit=20")]).catch(() => null);
    if (!got) return; // aborted by a logout
    const [r, h] = got;
    if (r.ok && Array.isArray(r.data)) {
      fill("#flags tbody", r.data.map((f) => {
        const on = f.enabled === true;
        const btn = el("button", on ? "kill switch: disable" : "enable");
        btn.dataset.flag = f.key;
        btn.addEventListener("click", () => {
          const verb = on ? "disable" : "enable";
          ask(`${verb} flag ${f.key}?`, async () => { outcome(`${verb} ${f.key}`, await call("POST", `/ui/api/v1/flags/${encodeURIComponent(f.key)}/${verb}`)); loadFlags(); });
        });
        const tr = row([f.key, on ? "enabled" : "disabled", f.rollout_percent !== undefined ? f.rollout_percent + "%" : "-", btn]);
        tr.dataset.flag = f.key;
        return tr;
      }));
    }
    if (h.ok && Array.isArray(h.data)) {
      fill("#flag-history tbody", h.data.map((c) => row([c.time.slice(0, 19).replace("T", " "), c.key, c.action, c.actor])));
    }
  }

  $("#login").addEventListener("submit", async (e) => {
    e.preventDefault();
    const r = await fetch("/ui/login", { method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ token: $("#token").value }) });
    $("#token").value = "";
    if (!r.ok) { $("#login-error").textContent = r.status === 401 ? "that token is not admitted" : "login refused"; return; }
    start();
  });
  $("#logout").addEventListener("click", async () => {
    if (source) { source.close(); source = null; }
    await call("POST", "/ui/logout");
    showLogin("logged out");
  });
  $("#refresh").addEventListener("click", () => loadDetail());
  start();
})();
