// A page waiting for the e-ID asks the service for the request's state (and nothing else)
// every few seconds, and reloads once it changed or the check expired. Without scripts, a
// reload does the same.
(function () {
  "use strict";
  var panel = document.querySelector("[data-eid-poll]");
  if (!panel || !window.fetch) { return; }
  var url = panel.getAttribute("data-eid-poll");
  var waiting = panel.getAttribute("data-eid-waiting");
  var expires = Date.parse(panel.getAttribute("data-eid-expires") || "");
  function poll() {
    if (!isNaN(expires) && Date.now() > expires) { window.location.reload(); return; }
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (answer) { return answer.ok ? answer.json() : null; })
      .then(function (body) {
        if (body && body.state && body.state !== waiting) {
          window.location.reload();
        } else {
          window.setTimeout(poll, 2000);
        }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 2000);
}());
