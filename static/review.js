// Document viewer (zoom, rotate) and keyboard shortcuts for reviewers. No inline script:
// the page's CSP allows only this file.
(function () {
  "use strict";
  document.querySelectorAll("[data-viewer]").forEach(function (viewer) {
    var img = viewer.querySelector("img");
    var zoom = 1, turn = 0;
    function apply() {
      img.classList.toggle("zoomed", zoom > 1);
      img.style.width = zoom > 1 ? (zoom * 100) + "%" : "";
      img.style.transform = "rotate(" + turn + "deg)";
    }
    viewer.querySelectorAll("[data-zoom]").forEach(function (button) {
      button.addEventListener("click", function () {
        zoom = button.getAttribute("data-zoom") === "in" ? Math.min(zoom * 1.5, 8) : Math.max(zoom / 1.5, 1);
        apply();
      });
    });
    viewer.querySelector("[data-rotate]").addEventListener("click", function () {
      turn = (turn + 90) % 360;
      apply();
    });
  });
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (target && (target.tagName === "INPUT" || target.tagName === "SELECT" || target.tagName === "TEXTAREA")) { return; }
    if (event.key === "?") {
      var help = document.getElementById("shortcuts");
      if (help) { help.open = !help.open; if (help.open) { help.scrollIntoView(); } }
      return;
    }
    var first = document.querySelector("[data-viewer]");
    if (!first) { return; }
    if (event.key === "+") { first.querySelector("[data-zoom=in]").click(); }
    if (event.key === "-") { first.querySelector("[data-zoom=out]").click(); }
    if (event.key === "o") { first.querySelector("[data-rotate]").click(); }
  });
})();
