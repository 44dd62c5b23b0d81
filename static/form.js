// On the request form: before upload, warns when a chosen file is over the size limit (so
// nobody waits for a large upload only to see it refused), and shows each chosen photo with
// its size, so that a wrong or unreadable photo is noticed before it is sent. The server
// checks everything either way; without this script the form works the same. The words come
// from the page, in its language.
(function () {
  "use strict";
  var script = document.currentScript;
  var say = function (name) { return (script && script.getAttribute(name)) || ""; };
  var megabytes = function (bytes) { return (bytes / 1048576).toFixed(1) + " MB"; };

  function showPreview(input, file) {
    var old = input.parentNode.querySelector("figure.preview");
    if (old) { old.remove(); }
    if (!file || !/^image\//.test(file.type)) { return; }
    var figure = document.createElement("figure");
    figure.className = "preview";
    var image = document.createElement("img");
    image.alt = "";
    var caption = document.createElement("figcaption");
    caption.textContent = say("data-preview-label") + " " + file.name + " · " + megabytes(file.size);
    image.addEventListener("load", function () {
      caption.textContent += " · " + image.naturalWidth + "×" + image.naturalHeight + " px";
      URL.revokeObjectURL(image.src);
    });
    image.src = URL.createObjectURL(file);
    figure.appendChild(image);
    figure.appendChild(caption);
    input.insertAdjacentElement("afterend", figure);
  }

  document.querySelectorAll("input[type=file][data-max-bytes]").forEach(function (input) {
    input.addEventListener("change", function () {
      var max = Number(input.getAttribute("data-max-bytes"));
      var file = input.files && input.files[0];
      var tooLarge = file && file.size > max;
      input.setCustomValidity(tooLarge ? say("data-too-large") : "");
      if (tooLarge) { input.reportValidity(); }
      if (input.hasAttribute("data-preview")) { showPreview(input, tooLarge ? null : file); }
    });
  });
})();
