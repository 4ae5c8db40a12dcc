// Small quote-table library of the demo portal: fetches the JSON data feed
// named by the script tag (through the DCT frontend loader when the page
// has one) and renders it.
(function () {
  "use strict";
  var script = document.currentScript;
  var feed = script && script.getAttribute("data-feed");
  function fmt(n) { return Number(n).toFixed(2); }
  function render(data) {
    var body = document.querySelector("#quotes tbody");
    data.quotes.forEach(function (q) {
      var tr = document.createElement("tr");
      tr.innerHTML = "<td>" + q.symbol + "</td><td>" + fmt(q.bid) + "</td><td>" + fmt(q.ask) +
        "</td><td class=\"" + (q.change < 0 ? "down" : "up") + "\">" + fmt(q.change) + "%</td>";
      body.appendChild(tr);
    });
    document.getElementById("status").textContent =
      data.quotes.length + " quotes as of " + data.asOf + " (feed " + feed + ")";
  }
  var get = window.dctLoader ? function (u) { return window.dctLoader.fetch(u, { cache: "no-store" }); } : fetch;
  get(feed).then(function (r) { return r.json(); }).then(render).catch(function (e) {
    document.getElementById("status").textContent = "feed unavailable: " + e;
  });
})();
