// cutover dashboard: no framework, no build step. State arrives over server-sent events
// (/ui/stream); actions go to the control API under /ui/api with the session's CSRF value.
"use strict";
(function () {
  const $ = (sel) => document.querySelector(sel);
  let csrf = "", source = null, services = [], selected = "", pending = null;

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

  async function call(method, path, body) {
    const opts = { method, headers: { "X-Cutover-CSRF": csrf }, credentials: "same-origin" };
    if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    const r = await fetch(path, opts);
    const text = await r.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = { error: text }; }
    if (r.status === 401) showLogin("your session ended: log in again");
    return { ok: r.ok, status: r.status, data };
  }

  function showLogin(msg) {
    if (source) { source.close(); source = null; }
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
    source.onopen = () => setLive(true);
    source.onerror = async () => {
      setLive(false);
      const r = await fetch("/ui/session", { credentials: "same-origin" }).catch(() => null);
      const s = r && r.ok ? await r.json() : null;
      if (s && !s.logged_in) showLogin("your session ended: log in again");
    };
    source.addEventListener("services", (e) => { services = JSON.parse(e.data); render(); });
    source.addEventListener("event", (e) => addEvent(JSON.parse(e.data)));
    source.addEventListener("logout", () => showLogin("your session ended: log in again"));
  }

  function addEvent(ev) {
    const li = el("li", `${ev.time.slice(11, 23)} ${ev.service || "-"} ${ev.type}: ${ev.message}`);
    li.dataset.type = ev.type;
    const list = $("#events");
    list.insertBefore(li, list.firstChild);
    while (list.children.length > 200) list.removeChild(list.lastChild);
    if (ev.type.startsWith("flag") && source) loadFlags();
  }

  function canaryOf(s) {
    const d = s.deployment;
    return d && d.to !== s.stable ? d.to : "";
  }
  function totals(s) {
    let req = 0, err = 0;
    for (const c of Object.values(s.traffic || {})) { req += c.requests; err += c.errors; }
    return { req, err };
  }

  function render() {
    const body = $("#services tbody");
    body.replaceChildren();
    if (!selected && services.length) selected = services[0].name;
    for (const s of services) {
      const t = totals(s), d = s.deployment || s.last_deployment;
      const weights = Object.entries(s.weights || {}).map(([r, w]) => `r${r}:${w}%`).join(" ");
      const ready = s.instances.filter((i) => i.ready).length;
      const tr = row([s.name, s.stable, canaryOf(s), weights, t.req, t.req ? pct(t.err / t.req) : "-",
        `${ready}/${s.instances.length} ready`, d ? `#${d.id} ${d.status} (${d.phase})` : "-"]);
      tr.dataset.service = s.name;
      if (s.name === selected) tr.className = "selected";
      tr.addEventListener("click", () => { selected = s.name; render(); });
      body.appendChild(tr);
    }
    renderDetail(services.find((s) => s.name === selected));
  }

  function renderDetail(s) {
    $("#detail").hidden = !s;
    if (!s) return;
    $("#svc-name").textContent = s.name;
    const d = s.deployment || s.last_deployment, box = $("#deployment");
    box.replaceChildren();
    if (d) {
      box.appendChild(el("p", `deployment #${d.id} (${d.kind}, ${d.strategy}) revision ${d.from} → ${d.to}: ` +
        `${d.status}, step ${d.step}, ${d.phase}` + (d.reason ? ` — ${d.reason}` : ""), "status-" + d.status));
      box.firstChild.id = "deployment-status";
    }
    renderVerdict(d && d.verdict);
    const inst = $("#instances tbody");
    inst.replaceChildren();
    for (const i of s.instances) inst.appendChild(row([i.id, i.revision, i.state, i.ready ? "yes" : "no", i.live ? "yes" : "no",
      i.target ? "yes" : "no", i.restarts, i.message || ""]));
    const revs = $("#revisions tbody");
    revs.replaceChildren();
    const numbers = new Set([...Object.keys(s.weights || {}), ...Object.keys(s.traffic || {})]);
    for (const r of [...numbers].sort((a, b) => b - a)) {
      const c = (s.traffic || {})[r] || { requests: 0, errors: 0 };
      revs.appendChild(row([r, ((s.weights || {})[r] || 0) + "%", c.requests, c.errors, c.requests ? pct(c.errors / c.requests) : "-"]));
    }
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
    const r = await call("GET", "/ui/api/v1/flags");
    const body = $("#flags tbody");
    body.replaceChildren();
    if (!r.ok || !Array.isArray(r.data)) return;
    for (const f of r.data) {
      const on = f.enabled === true;
      const btn = el("button", on ? "kill switch: disable" : "enable");
      btn.dataset.flag = f.key;
      btn.addEventListener("click", () => {
        const verb = on ? "disable" : "enable";
        ask(`${verb} flag ${f.key}?`, async () => { outcome(`${verb} ${f.key}`, await call("POST", `/ui/api/v1/flags/${encodeURIComponent(f.key)}/${verb}`)); loadFlags(); });
      });
      const tr = row([f.key, on ? "enabled" : "disabled", f.rollout_percent !== undefined ? f.rollout_percent + "%" : "-", btn]);
      tr.dataset.flag = f.key;
      body.appendChild(tr);
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
  start();
})();
