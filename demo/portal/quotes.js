// Small quote-ticker library of the demo portal: reads the live JSON data
// feed named by the script tag (its unversioned URL) every second, through
// the DCT frontend loader when the page has one (it fails over between
// gateways), asking the gateway to revalidate it (the feed is served
// "no-cache" with a strong ETag, so an unchanged feed costs a 304), and
// redraws the table when a new version arrived.
(function () {
  "use strict";
  var script = document.currentScript;
  var feed = script && script.getAttribute("data-feed");
  var every = Number((script && script.getAttribute("data-every")) || 1000);
  var shown = null; // the version on screen
  function fmt(n) { return Number(n).toFixed(2); }
  function price(n) { return Number(n).toFixed(Math.abs(n) < 10 ? 4 : 2); }
  function cell(text, cls) {
    var td = document.createElement("td");
    td.textContent = text;
    if (cls) { td.className = cls; }
    return td;
  }
  function render(data, version) {
    var body = document.querySelector("#quotes tbody");
    var rows = document.createDocumentFragment();
    data.quotes.forEach(function (q) {
      var tr = document.createElement("tr");
      tr.appendChild(cell(q.symbol));
      tr.appendChild(cell(price(q.bid)));
      tr.appendChild(cell(price(q.ask)));
      tr.appendChild(cell(fmt(q.change) + "%", q.change < 0 ? "down" : "up"));
      rows.appendChild(tr);
    });
    body.replaceChildren(rows);
    var status = document.getElementById("status");
    status.textContent = data.quotes.length + " quotes as of " + data.asOf +
      " (feed " + feed + (version ? ", version " + version : "") + ")";
    status.setAttribute("data-version", version || "");
  }
  var get = window.dctLoader ? function (u, o) { return window.dctLoader.fetch(u, o); } : function (u, o) { return fetch(u, o); };
  function poll() {
    get(feed, { cache: "no-cache" }).then(function (r) {
      if (!r.ok) { throw new Error("HTTP " + r.status); }
      var version = r.headers.get("X-DCT-Version");
      if (version !== null && version === shown) { return null; }
      return r.json().then(function (data) {
        shown = version;
        render(data, version);
      });
    }).catch(function (e) {
      shown = null; // redraw on the next answer
      document.getElementById("status").textContent = "feed unavailable: " + e;
    }).then(function () {
      setTimeout(poll, every);
    });
  }
  poll();
})();
