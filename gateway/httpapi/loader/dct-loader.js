/*! dct-loader.js: DCT's frontend loader. Served by every DCT gateway at
 * /dct-loader.js; include it pinned with Subresource Integrity (GET /v1/loader
 * gives the value):
 *
 *   <script src="/dct-loader.js" integrity="sha384-…" crossorigin="anonymous"
 *           data-gateways="https://gw1.example:8080 https://gw2.example:8080"></script>
 *
 * It knows the consortium's gateways (the origin it was loaded from, the
 * data-gateways list, and what GET /v1/gateways of the gateway in use
 * answers; no DNS lookup beyond the URLs given), races a health probe
 * (GET /healthz) to all of them and uses the first to answer 200. Every
 * request has a deadline (data-timeout-ms, 800 ms by default); a refused
 * connection, a timeout, a 5xx or 429 answer, or a failed integrity check
 * switches to the next gateway that answers a new probe race, and the
 * request is retried there. API (window.dctLoader):
 *
 *   ready                         promise of the first gateway chosen
 *   fetch(path, {integrity, cache, timeoutMs, totalMs}) -> Promise<Response>
 *   loadScript(path, integrity, attrs) / loadStyle(path, integrity)
 *   poll(path, intervalMs, onData(json, response, changed)) -> stop()
 *   current, gateways, switches, failures, assetErrors
 *
 * No dependency; ES2017 (fetch, AbortController, Promise).
 */
(function () {
  "use strict";
  if (window.dctLoader) { return; }
  var script = document.currentScript;
  function attr(name) { return script ? script.getAttribute(name) : null; }
  function num(v, d) { var n = parseInt(v, 10); return n > 0 ? n : d; }
  var TIMEOUT = num(attr("data-timeout-ms"), 800);
  var MAX_GATEWAYS = 64, MAX_LOG = 100;
  function now() { return (window.performance && performance.now) ? performance.now() : Date.now(); }

  var L = {
    version: 1,
    gateways: [],    // origins of the known gateways
    current: null,   // origin in use
    switches: [],    // {at, from, to, reason, probeMs}
    failures: [],    // {at, gateway, path, reason}: failed attempts (each retried elsewhere)
    assetErrors: 0,  // requests that failed on every gateway (or with a 4xx)
    timeoutMs: TIMEOUT
  };

  function push(list, v) { list.push(v); if (list.length > MAX_LOG) { list.shift(); } }

  // origin of an absolute or relative http(s) URL, or null.
  function originOf(u) {
    try {
      var url = new URL(u, location.href);
      return (url.protocol === "http:" || url.protocol === "https:") ? url.origin : null;
    } catch (e) { return null; }
  }
  function addGateway(u) {
    var o = originOf(u);
    if (o && L.gateways.indexOf(o) < 0 && L.gateways.length < MAX_GATEWAYS) { L.gateways.push(o); }
  }

  function failure(reason, fatal) { var e = new Error(reason); e.reason = reason; e.fatal = !!fatal; return e; }

  // timedFetch fetches url and reads the whole body within ms, resolving
  // with a Response over the bytes read.
  function timedFetch(url, init, ms) {
    var ctl = new AbortController(), timedOut = false;
    var timer = setTimeout(function () { timedOut = true; ctl.abort(); }, ms);
    init.signal = ctl.signal;
    return fetch(url, init).then(function (res) {
      return res.arrayBuffer().then(function (buf) {
        var empty = res.status === 204 || res.status === 205 || res.status === 304;
        return new Response(empty ? null : buf, { status: res.status, statusText: res.statusText, headers: res.headers });
      });
    }).then(function (res) { clearTimeout(timer); return res; }, function (e) {
      clearTimeout(timer);
      throw failure(timedOut ? "timeout after " + ms + " ms" : String(e && e.message || e));
    });
  }

  function probe(g) {
    return timedFetch(g + "/healthz", { mode: "cors", credentials: "omit", cache: "no-store" }, TIMEOUT).then(function (res) {
      if (res.status !== 200) { throw failure("health " + res.status); }
      return g;
    });
  }

  // choose races a probe to every known gateway but bad (all of them when
  // bad is the only one) and makes the first healthy one current.
  var choosing = null;
  function choose(reason, bad) {
    if (choosing) { return choosing; }
    var from = L.current, t0 = now();
    var list = L.gateways.filter(function (g) { return g !== bad; });
    if (list.length === 0) { list = L.gateways.slice(); }
    choosing = new Promise(function (resolve, reject) {
      var left = list.length, done = false;
      if (left === 0) { reject(failure("no gateway known")); return; }
      list.forEach(function (g) {
        probe(g).then(function () {
          if (done) { return; }
          done = true;
          L.current = g;
          if (g !== from) { push(L.switches, { at: Date.now(), from: from, to: g, reason: reason, probeMs: Math.round(now() - t0) }); }
          resolve(g);
        }, function (e) {
          push(L.failures, { at: Date.now(), gateway: g, path: "/healthz", reason: e.reason || String(e) });
          if (--left === 0 && !done) { reject(failure("no healthy gateway among " + list.length)); }
        });
      });
    });
    var clear = function () { choosing = null; };
    choosing.then(clear, clear);
    return choosing;
  }

  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  // fetch GETs path (e.g. /cdn/portal/app.js@3) from the gateway in use,
  // switching gateways on failure until opts.totalMs (10 s) has passed.
  L.fetch = function (path, opts) {
    opts = opts || {};
    var deadline = now() + (opts.totalMs || 10000);
    function attempt() {
      var ready = L.current ? Promise.resolve(L.current) : choose("start");
      return ready.then(function (g) {
        var init = { mode: "cors", credentials: "omit", cache: opts.cache || "default" };
        if (opts.integrity) { init.integrity = opts.integrity; }
        return timedFetch(g + path, init, opts.timeoutMs || TIMEOUT).then(function (res) {
          if (res.status >= 500 || res.status === 429) { throw failure("HTTP " + res.status); }
          if (!res.ok) { throw failure("HTTP " + res.status + " for " + path, true); }
          return res;
        }).catch(function (e) {
          if (e.fatal) { throw e; }
          push(L.failures, { at: Date.now(), gateway: g, path: path, reason: e.reason || String(e) });
          if (now() > deadline) { throw e; }
          // Another request may have switched already.
          var next = L.current === g ? choose(e.reason || "error", g) : Promise.resolve(L.current);
          return next.then(attempt, function (ce) {
            if (now() > deadline) { throw ce; }
            L.current = null;
            return sleep(200).then(attempt);
          });
        });
      }, function (e) {
        if (now() > deadline) { throw e; }
        return sleep(200).then(attempt);
      });
    }
    return attempt().catch(function (e) {
      L.assetErrors++;
      L.lastError = path + ": " + (e.reason || String(e));
      throw e;
    });
  };

  // loadScript fetches a script with its integrity and runs it from a
  // Blob URL (document.currentScript is the new element, with attrs set).
  L.loadScript = function (path, integrity, attrs) {
    return L.fetch(path, { integrity: integrity }).then(function (r) { return r.blob(); }).then(function (b) {
      return new Promise(function (resolve, reject) {
        var s = document.createElement("script");
        Object.keys(attrs || {}).forEach(function (k) { s.setAttribute(k, attrs[k]); });
        s.setAttribute("data-dct-path", path);
        s.src = URL.createObjectURL(new Blob([b], { type: "text/javascript" }));
        s.onload = function () { URL.revokeObjectURL(s.src); resolve(s); };
        s.onerror = function () { L.assetErrors++; reject(failure("script " + path + " did not run")); };
        document.head.appendChild(s);
      });
    });
  };

  // loadStyle fetches a stylesheet with its integrity and applies it.
  L.loadStyle = function (path, integrity) {
    return L.fetch(path, { integrity: integrity }).then(function (r) { return r.text(); }).then(function (css) {
      var st = document.createElement("style");
      st.setAttribute("data-dct-path", path);
      st.textContent = css;
      document.head.appendChild(st);
      return st;
    });
  };

  // poll fetches a JSON feed every intervalMs (uncached) and calls
  // onData(json, response, changed) after each success; changed is false
  // when the feed's ETag is the one seen last.
  L.poll = function (path, intervalMs, onData) {
    var stopped = false, last = null;
    function tick() {
      if (stopped) { return; }
      var t0 = now();
      L.fetch(path, { cache: "no-store" }).then(function (res) {
        var etag = res.headers.get("ETag");
        return res.json().then(function (data) {
          var changed = etag === null || etag !== last;
          last = etag;
          onData(data, res, changed);
        });
      }).catch(function () { /* counted in assetErrors; the next tick retries */ }).then(function () {
        setTimeout(tick, Math.max(0, intervalMs - (now() - t0)));
      });
    }
    tick();
    return function () { stopped = true; };
  };

  // learn adds the gateways the one in use knows.
  function learn() {
    if (!L.current) { return Promise.resolve(); }
    return timedFetch(L.current + "/v1/gateways", { mode: "cors", credentials: "omit", cache: "no-store" }, TIMEOUT)
      .then(function (res) { return res.ok ? res.json() : null; })
      .then(function (v) { (v && v.gateways || []).forEach(addGateway); }, function () { });
  }

  if (script && script.src) { addGateway(script.src); }
  (attr("data-gateways") || "").split(/[\s,]+/).forEach(function (u) { if (u) { addGateway(u); } });
  L.ready = choose("start").then(function (g) { return learn().then(function () { return g; }); });
  L.ready.catch(function () { });
  setInterval(learn, 60000);
  window.dctLoader = L;
})();
