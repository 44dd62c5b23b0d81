// Warns before upload when a chosen file is over the size limit, so nobody waits for a
// large upload only to see it refused. The server enforces the limit either way. (Focus on
// the first field in error needs no script: the page marks it `autofocus`.)
(function () {
  "use strict";
  document.querySelectorAll("input[type=file][data-max-bytes]").forEach(function (input) {
    input.addEventListener("change", function () {
      var max = Number(input.getAttribute("data-max-bytes"));
      var file = input.files && input.files[0];
      var tooLarge = file && file.size > max;
      input.setCustomValidity(tooLarge ? "This file is larger than 20 MB. Please choose a smaller photo." : "");
      if (tooLarge) { input.reportValidity(); }
    });
  });
})();
