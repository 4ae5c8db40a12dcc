// DCT gateway dashboard: polls /v1/dashboard every second and redraws.
// Every value from the network is written with textContent or as an SVG
// attribute, never as HTML.
"use strict";
(function () {
  const SVG = "http://www.w3.org/2000/svg";
  const POLL_MS = 1000;
  const HISTORY = 90;
  // State for tests and operators' consoles.
  const state = window.dctDashboard = { polls: 0, errors: [], nodes: {}, last: null };
  const history = [];

  const $ = (id) => document.getElementById(id);
  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); }
  function bytes(n) {
    if (!n) return "0 B";
    const u = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return (i ? n.toFixed(1) : n) + " " + u[i];
  }
  function num(v, digits) { return v === undefined || v === null ? "–" : Number(v).toFixed(digits || 0); }
  function healthClass(n) { return ["alive", "suspect", "failed"].includes(n.health) ? n.health : "unknown"; }
  // slaColour maps a score in basis points (0..10000) to red..green.
  function slaColour(score) {
    if (score === undefined || score === null) return "#b7c0cc";
    const s = Math.max(0, Math.min(10000, score)) / 10000;
    return "hsl(" + Math.round(120 * s) + ", 65%, 42%)";
  }

  function drawMap(nodes) {
    const m = $("map");
    clear(m);
    const W = 800, H = 380, pad = 40;
    const pts = nodes.filter((n) => isFinite(n.latitude) && isFinite(n.longitude));
    // Fit the nodes' bounding box (at least 20° by 10°) into the view,
    // keeping the equirectangular aspect.
    let minLon = -180, maxLon = 180, minLat = -60, maxLat = 75;
    if (pts.length) {
      minLon = Math.min(...pts.map((n) => n.longitude)); maxLon = Math.max(...pts.map((n) => n.longitude));
      minLat = Math.min(...pts.map((n) => n.latitude)); maxLat = Math.max(...pts.map((n) => n.latitude));
      const cx = (minLon + maxLon) / 2, cy = (minLat + maxLat) / 2;
      let w = Math.max(maxLon - minLon, 2) * 1.3, h = Math.max(maxLat - minLat, 1) * 1.3;
      if (w / h > (W - 2 * pad) / (H - 2 * pad)) h = w * (H - 2 * pad) / (W - 2 * pad); else w = h * (W - 2 * pad) / (H - 2 * pad);
      minLon = cx - w / 2; maxLon = cx + w / 2; minLat = cy - h / 2; maxLat = cy + h / 2;
    }
    const x = (lon) => pad + (lon - minLon) / (maxLon - minLon) * (W - 2 * pad);
    const y = (lat) => H - pad - (lat - minLat) / (maxLat - minLat) * (H - 2 * pad);
    const span = maxLon - minLon;
    const step = span > 90 ? 30 : span > 30 ? 10 : span > 8 ? 2 : span > 3 ? 1 : 0.5;
    for (let lon = Math.ceil(minLon / step) * step; lon <= maxLon; lon += step) {
      m.appendChild(svg("line", { class: "graticule", x1: x(lon), x2: x(lon), y1: 0, y2: H }));
      m.appendChild(svg("text", { class: "rtt-label", x: x(lon) + 2, y: H - 4 }, lon + "°"));
    }
    for (let lat = Math.ceil(minLat / step) * step; lat <= maxLat; lat += step) {
      m.appendChild(svg("line", { class: "graticule", x1: 0, x2: W, y1: y(lat), y2: y(lat) }));
      m.appendChild(svg("text", { class: "rtt-label", x: 2, y: y(lat) - 2 }, lat + "°"));
    }
    // Nodes at the same place are fanned out around it.
    const seen = {};
    for (const n of pts) {
      const key = n.latitude.toFixed(2) + "," + n.longitude.toFixed(2);
      const k = seen[key] = (seen[key] || 0) + 1;
      const a = k * 2.4, r = k > 1 ? 9 + 3 * k : 0;
      const cx = x(n.longitude) + r * Math.cos(a), cy = y(n.latitude) + r * Math.sin(a);
      const g = svg("g", { class: "node", "data-node-id": n.id, "data-health": healthClass(n) });
      const title = svg("title", {}, n.id + " (" + n.org + ", " + n.zone + "): " + n.health +
        (n.slaScore !== undefined ? ", SLA " + (n.slaScore / 100).toFixed(1) + "%" : "") + (n.active ? "" : ", deactivated"));
      g.appendChild(title);
      g.appendChild(svg("circle", { class: "sla", cx: cx, cy: cy, r: 10, stroke: slaColour(n.slaScore) }));
      const body = svg("circle", { class: "body " + healthClass(n), cx: cx, cy: cy, r: 7 });
      if (!n.active) { body.setAttribute("fill-opacity", "0.35"); body.setAttribute("stroke-dasharray", "2 2"); }
      g.appendChild(body);
      g.appendChild(svg("text", { x: cx + 12, y: cy + 4 }, n.id));
      m.appendChild(g);
    }
  }

  function drawRTT(nodes, gateways, self) {
    const s = $("rtt");
    clear(s);
    const C = 190, R = 165;
    const all = nodes.filter((n) => n.rttMs !== undefined).map((n) => ({ name: n.id, rtt: n.rttMs, cls: healthClass(n) }))
      .concat(gateways.filter((g) => g.rttMs !== undefined).map((g) => ({ name: g.name, rtt: g.rttMs, cls: "gateway" })));
    const maxRTT = Math.max(1, ...all.map((p) => p.rtt));
    // Rings at round values.
    const unit = maxRTT > 200 ? 100 : maxRTT > 50 ? 25 : maxRTT > 10 ? 5 : 1;
    for (let v = unit; v <= maxRTT * 1.05; v += unit) {
      const r = v / maxRTT * R;
      s.appendChild(svg("circle", { class: "rtt-ring", cx: C, cy: C, r: r }));
      s.appendChild(svg("text", { class: "rtt-label", x: C + 2, y: C - r - 2 }, v + " ms"));
    }
    all.forEach((p, i) => {
      const a = 2 * Math.PI * i / Math.max(all.length, 1) - Math.PI / 2;
      const r = Math.max(p.rtt / maxRTT * R, 6);
      const px = C + r * Math.cos(a), py = C + r * Math.sin(a);
      s.appendChild(svg("line", { class: "rtt-line", x1: C, y1: C, x2: px, y2: py }));
      const g = svg("g", { "data-rtt-member": p.name });
      g.appendChild(svg("title", {}, p.name + ": " + p.rtt.toFixed(2) + " ms"));
      g.appendChild(svg("circle", { class: p.cls === "gateway" ? "center" : p.cls, cx: px, cy: py, r: p.cls === "gateway" ? 5 : 4.5 }));
      g.appendChild(svg("text", { class: "rtt-label", x: px + 6, y: py + 3 }, p.name));
      s.appendChild(g);
    });
    s.appendChild(svg("circle", { class: "center", cx: C, cy: C, r: 6 }));
    s.appendChild(svg("text", { class: "rtt-label", x: C + 8, y: C + 12 }, self || "this gateway"));
    if (!all.length) s.appendChild(svg("text", { class: "rtt-label", x: 20, y: 20 }, "no RTT estimates yet (mesh off or warming up)"));
  }

  function spark(id, values) {
    const s = $(id);
    clear(s);
    if (values.length < 2) return;
    const maxV = Math.max(...values, 1e-9);
    const pts = values.map((v, i) => (i / (HISTORY - 1) * 360).toFixed(1) + "," + (68 - v / maxV * 64).toFixed(1));
    s.appendChild(svg("polyline", { points: pts.join(" ") }));
    s.appendChild(svg("text", { class: "rtt-label", x: 2, y: 10 }, "max " + maxV.toFixed(maxV < 10 ? 2 : 0)));
  }

  function traffic(v) {
    const now = Date.parse(v.at);
    history.push({ t: now, r: v.requests });
    if (history.length > HISTORY + 1) history.shift();
    const rates = [], lats = [];
    for (let i = 1; i < history.length; i++) {
      const a = history[i - 1], b = history[i];
      const dt = Math.max((b.t - a.t) / 1000, 1e-3);
      const dn = b.r.requests - a.r.requests;
      rates.push(dn / dt);
      lats.push(dn > 0 ? (b.r.latencyNanos - a.r.latencyNanos) / dn / 1e6 : 0);
    }
    if (history.length > 1) {
      const a = history[history.length - 2], b = history[history.length - 1];
      const dt = Math.max((b.t - a.t) / 1000, 1e-3);
      $("rate").textContent = rates[rates.length - 1].toFixed(1);
      $("latency").textContent = lats[lats.length - 1].toFixed(2);
      $("out").textContent = bytes((b.r.sentBytes - a.r.sentBytes) / dt);
    }
    $("errors").textContent = v.requests.errors;
    spark("rate-chart", rates);
    spark("latency-chart", lats);
  }

  function row(tbody, cells, attrs) {
    const tr = el("tr", attrs);
    for (const c of cells) {
      const td = el("td", c.num ? { class: "num" } : {});
      if (c.node) td.appendChild(c.node); else td.textContent = c.text;
      tr.appendChild(td);
    }
    tbody.appendChild(tr);
  }
  function badge(text, cls) { return el("span", { class: "badge " + cls }, text); }

  function tables(v) {
    const nb = $("nodes").tBodies[0];
    clear(nb);
    for (const n of v.nodes) {
      row(nb, [{ text: n.id }, { text: n.org }, { text: n.zone }, { node: badge(n.health, healthClass(n)) },
        { node: n.active ? badge("active", "alive") : badge("deactivated", "inactive") },
        { text: n.slaScore === undefined ? "–" : (n.slaScore / 100).toFixed(1) + "%" + (n.slaState ? " " + n.slaState : "") },
        { text: num(n.rttMs, 2), num: true }, { text: n.fetches, num: true }, { text: n.failures, num: true },
        { text: n.hedges, num: true }, { text: num(n.latencyMs, 2), num: true }, { text: bytes(n.deliveredBytes), num: true },
        { text: n.receipts, num: true }], { "data-node-id": n.id, "data-health": healthClass(n) });
    }
    const ob = $("orgs").tBodies[0];
    clear(ob);
    for (const o of v.orgs) {
      row(ob, [{ text: o.mspId }, { text: o.nodes, num: true }, { text: o.alive, num: true }, { text: bytes(o.deliveredBytes), num: true },
        { text: o.payouts, num: true }, { text: o.payoutAmount, num: true }]);
    }
    const gl = $("gateways");
    clear(gl);
    for (const g of v.gateways) gl.appendChild(el("li", {}, g.name + " — " + g.health + (g.rttMs !== undefined ? ", " + g.rttMs.toFixed(2) + " ms" : "") + (g.url ? " — " + g.url : "")));
    if (!v.gateways.length) gl.appendChild(el("li", {}, "none seen in the mesh"));
    const rl = $("repair-list");
    clear(rl);
    $("repairs").textContent = v.repairs.count;
    for (const r of v.repairs.recent) rl.appendChild(el("li", {}, r.name + "@" + r.version + " shard " + r.shard + ": " + (r.lost || []).join(", ") + " → " + r.newHolder));
    if (!v.repairs.recent.length) rl.appendChild(el("li", {}, "no repair by this gateway"));
    const eb = $("events").tBodies[0];
    clear(eb);
    for (const e of v.events) {
      row(eb, [{ text: new Date(e.at).toLocaleTimeString() }, { text: e.block || "–", num: true }, { text: e.kind }, { text: e.detail },
        { text: (e.txId || "").slice(0, 16) }]);
    }
    if (!v.events.length) row(eb, [{ text: "–" }, { text: "" }, { text: "" }, { text: "no event since the gateway started" }, { text: "" }]);
  }

  function render(v) {
    $("gw-name").textContent = v.gateway.name;
    $("gw-msp").textContent = v.gateway.mspId + (v.gateway.url ? " · " + v.gateway.url : "");
    $("updated").textContent = "updated " + new Date(v.at).toLocaleTimeString();
    $("block").textContent = v.lastBlock || "–";
    const streams = Object.keys(v.eventStreams || {}).sort().map((k) => k + (v.eventStreams[k] ? " live" : " down"));
    $("streams").textContent = streams.length ? streams.join(", ") : "off";
    $("reads").textContent = v.fetch.reads;
    $("hedges").textContent = v.fetch.hedges;
    $("hedge-at").textContent = v.fetch.hedgeDelayMs.toFixed(1);
    drawMap(v.nodes);
    drawRTT(v.nodes, v.gateways, v.gateway.name);
    traffic(v);
    tables(v);
    state.nodes = {};
    for (const n of v.nodes) state.nodes[n.id] = n.health;
  }

  async function poll() {
    try {
      const r = await fetch("../v1/dashboard", { cache: "no-store" });
      if (!r.ok) throw new Error("GET /v1/dashboard: " + r.status);
      const v = await r.json();
      state.last = v.at;
      render(v);
      state.polls++;
      $("error").hidden = true;
    } catch (e) {
      state.errors.push(String(e));
      if (state.errors.length > 20) state.errors.shift();
      const f = $("error");
      f.textContent = "cannot update: " + e;
      f.hidden = false;
    }
    setTimeout(poll, POLL_MS);
  }
  poll();
})();
