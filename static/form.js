// Warns before upload when a chosen file is over the size limit, so nobody waits for a
// large upload only to see it refused. The server enforces the limit either way. (Focus on
// the first field in error needs no script: the page marks it `autofocus`.) The warning's
// words come from the page, in its language.
(function () {
  "use strict";
  var tooLargeMessage = (document.currentScript && document.currentScript.getAttribute("data-too-large")) || "";
  document.querySelectorAll("input[type=file][data-max-bytes]").forEach(function (input) {
    input.addEventListener("change", function () {
      var max = Number(input.getAttribute("data-max-bytes"));
      var file = input.files && input.files[0];
      var tooLarge = file && file.size > max;
      input.setCustomValidity(tooLarge ? tooLargeMessage : "");
      if (tooLarge) { input.reportValidity(); }
    });
  });
})();
