// Small SVG line charts for the dashboard, written here: one line per revision over the last
// hour, no library. Loaded before app.js; it defines window.cutoverCharts.
"use strict";
(function () {
  const NS = "http://www.w3.org/2000/svg", W = 600, H = 140, PAD = 34, HOUR = 3600 * 1000;
  const COLORS = ["#0969da", "#cf222e", "#1a7f37", "#8250df", "#bf8700", "#1b7c83"];

  function node(tag, attrs, text) {
    const e = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // draw replaces svg's content with one line per revision of byRev (revision → points
  // {t, ...}), the value read by pick, over the hour before now; fmt labels the top of the axis.
  function draw(svg, byRev, pick, fmt, now) {
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    svg.replaceChildren();
    const from = now - HOUR;
    let top = 0;
    for (const pts of Object.values(byRev)) for (const p of pts) top = Math.max(top, pick(p));
    top = top > 0 ? top * 1.1 : 1;
    const x = (t) => PAD + ((t - from) / HOUR) * (W - PAD - 4);
    const y = (v) => H - 16 - (v / top) * (H - 24);
    svg.appendChild(node("line", { x1: PAD, y1: y(0), x2: W - 4, y2: y(0), stroke: "#d0d7de" }));
    svg.appendChild(node("text", { x: 2, y: 12, "font-size": 10, fill: "#57606a" }, fmt(top)));
    svg.appendChild(node("text", { x: PAD, y: H - 2, "font-size": 10, fill: "#57606a" }, "-60 min"));
    svg.appendChild(node("text", { x: W - 30, y: H - 2, "font-size": 10, fill: "#57606a" }, "now"));
    Object.keys(byRev).sort((a, b) => a - b).forEach((rev, i) => {
      const pts = byRev[rev].filter((p) => Date.parse(p.t) >= from);
      const color = COLORS[i % COLORS.length];
      svg.appendChild(node("text", { x: W - 120 + 40 * (i % 3), y: 12, "font-size": 10, fill: color }, "r" + rev));
      if (!pts.length) return;
      const line = node("polyline", { fill: "none", stroke: color, "stroke-width": 1.5,
        points: pts.map((p) => `${x(Date.parse(p.t)).toFixed(1)},${y(pick(p)).toFixed(1)}`).join(" ") });
      line.dataset.revision = rev;
      line.dataset.points = pts.length;
      line.dataset.last = String(pick(pts[pts.length - 1]));
      svg.appendChild(line);
    });
  }

  window.cutoverCharts = { draw };
})();
