// Live parts: every element with data-live and an id is fetched again every 30 s and
// swapped in place, while the tab is visible and nobody is typing into a form.
(function () {
  var PERIOD_MS = 30000;
  function busy() {
    var el = document.activeElement;
    return el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT");
  }
  function refresh() {
    if (document.hidden || busy() || !document.querySelector("[data-live][id]")) return;
    fetch(window.location.href, {credentials: "same-origin", headers: {"X-Live": "1"}})
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html || busy()) return;
        var fresh = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live][id]").forEach(function (old) {
          var now = fresh.getElementById(old.id);
          if (now) old.replaceWith(now);
        });
      })
      .catch(function () { /* the next round tries again */ });
  }
  setInterval(refresh, PERIOD_MS);
})();
