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
 * (GET /healthz) to all of them and uses the first to answer 200. A
 * request the gateway in use has not answered within data-hedge-ms (250 ms;
 * 0: never) goes to the next healthy gateway too, and the first good answer
 * wins (that gateway becomes the one in use). Every request has a deadline
 * (data-timeout-ms, 800 ms by default, for the answer and then for each
 * chunk of the body); a refused connection, a timeout, a 5xx or 429
 * answer, or a failed integrity check switches to the gateway that answers
 * a new probe race first, and the request is retried there. With an
 * integrity value the browser holds the answer until the whole body is
 * checked: give a large asset a longer timeoutMs. API (window.dctLoader):
 *
 *   ready                         promise of the first gateway chosen
 *   fetch(path, {integrity, cache, timeoutMs, totalMs}) -> Promise<Response>
 *   loadScript(path, integrity, attrs) / loadStyle(path, integrity)
 *   poll(path, intervalMs, onData(json, response, changed)) -> stop()
 *   current, gateways, ranked, switches, failures, assetErrors
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
  var HEDGE = attr("data-hedge-ms") === "0" ? 0 : num(attr("data-hedge-ms"), 250);
  var MAX_GATEWAYS = 64, MAX_LOG = 100;
  function now() { return (window.performance && performance.now) ? performance.now() : Date.now(); }

  var L = {
    version: 1,
    gateways: [],    // origins of the known gateways
    current: null,   // origin in use
    switches: [],    // {at, from, to, reason, tookMs}
    failures: [],    // {at, gateway, path, reason}: failed attempts (each retried elsewhere)
    assetErrors: 0,  // requests that failed on every gateway (or with a 4xx)
    startMs: null,   // how long the first probe race took
    timeoutMs: TIMEOUT,
    hedgeMs: HEDGE
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

  // timedFetch fetches url: the answer's headers must come within ms (with
  // an integrity value the browser checks the whole body first), then each
  // chunk of the body within ms of the last. It resolves with a Response
  // over the bytes read. abort, when given, is an AbortController that
  // cancels it.
  function timedFetch(url, init, ms, abort) {
    var ctl = abort || new AbortController(), timedOut = false, timer = null;
    function arm() {
      clearTimeout(timer);
      timer = setTimeout(function () { timedOut = true; ctl.abort(); }, ms);
    }
    arm();
    init.signal = ctl.signal;
    return fetch(url, init).then(function (res) {
      var empty = res.status === 204 || res.status === 205 || res.status === 304;
      if (empty || !res.body) {
        return new Response(null, { status: res.status, statusText: res.statusText, headers: res.headers });
      }
      var reader = res.body.getReader(), chunks = [];
      function next() {
        arm();
        return reader.read().then(function (r) {
          if (r.done) {
            return new Response(new Blob(chunks), { status: res.status, statusText: res.statusText, headers: res.headers });
          }
          chunks.push(r.value);
          return next();
        });
      }
      return next();
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

  // switchTo makes g current; a change from another gateway is a switch
  // (the first choice is not: its race took startMs).
  function switchTo(g, reason, t0) {
    var from = L.current, took = Math.round(now() - t0);
    L.current = g;
    if (from === null && L.startMs === null) { L.startMs = took; }
    if (from !== null && g !== from) { push(L.switches, { at: Date.now(), from: from, to: g, reason: reason, tookMs: took }); }
  }

  // choose races a probe to every known gateway but bad (all of them when
  // bad is the only one) and makes the first healthy one current; the
  // healthy ones, in the order they answered, are the backups (ranked).
  var choosing = null;
  function choose(reason, bad) {
    if (choosing) { return choosing; }
    var t0 = now(), ranking = [];
    var list = L.gateways.filter(function (g) { return g !== bad; });
    if (list.length === 0) { list = L.gateways.slice(); }
    choosing = new Promise(function (resolve, reject) {
      var left = list.length, done = false;
      if (left === 0) { reject(failure("no gateway known")); return; }
      list.forEach(function (g) {
        probe(g).then(function () {
          ranking.push(g);
          L.ranked = ranking.slice();
          if (done) { return; }
          done = true;
          switchTo(g, reason, t0);
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
  L.ranked = [];

  // backup is the gateway to hedge a request to g on: the first healthy
  // one of the last probe race, else the next known one.
  function backup(g) {
    var r = L.ranked.concat(L.gateways);
    for (var i = 0; i < r.length; i++) { if (r[i] !== g) { return r[i]; } }
    return null;
  }

  // hedged GETs path from g; when g has not answered within HEDGE ms, the
  // same request goes to a backup gateway too, and the first good answer
  // wins (the backup then becomes current). It rejects with the first
  // error once every request sent failed, at once with a fatal one (4xx).
  function hedged(g, path, opts) {
    return new Promise(function (resolve, reject) {
      var pending = 0, done = false, hedgedTo = null, errors = [], ctls = [], t0 = now();
      var ms = opts.timeoutMs || TIMEOUT;
      function finish() { done = true; clearTimeout(timer); ctls.forEach(function (c) { c.abort(); }); }
      function send(gw) {
        pending++;
        var ctl = new AbortController();
        ctls.push(ctl);
        var init = { mode: "cors", credentials: "omit", cache: opts.cache || "default" };
        if (opts.integrity) { init.integrity = opts.integrity; }
        timedFetch(gw + path, init, ms, ctl).then(function (res) {
          if (res.status >= 500 || res.status === 429) { throw failure("HTTP " + res.status); }
          if (!res.ok) { throw failure("HTTP " + res.status + " for " + path, true); }
          if (done) { return; }
          finish();
          if (gw !== g && L.current === g) { switchTo(gw, "hedge: no answer from " + g + " in " + HEDGE + " ms", t0); }
          resolve(res);
        }).catch(function (e) {
          if (done) { return; }
          push(L.failures, { at: Date.now(), gateway: gw, path: path, reason: e.reason || String(e) });
          errors.push(e);
          e.gateway = gw;
          if (e.fatal || --pending === 0) { finish(); reject(e.fatal ? e : errors[0]); }
        });
      }
      var timer = HEDGE > 0 ? setTimeout(function () {
        hedgedTo = backup(g);
        if (!done && hedgedTo) { send(hedgedTo); }
      }, HEDGE) : null;
      send(g);
    });
  }

  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  // fetch GETs path (e.g. /cdn/portal/app.js@3) from the gateway in use
  // (hedged), switching gateways on failure until opts.totalMs (10 s) has
  // passed.
  L.fetch = function (path, opts) {
    opts = opts || {};
    var deadline = now() + (opts.totalMs || 10000);
    function attempt() {
      var ready = L.current ? Promise.resolve(L.current) : choose("start");
      return ready.then(function (g) {
        return hedged(g, path, opts).catch(function (e) {
          if (e.fatal || now() > deadline) { throw e; }
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
