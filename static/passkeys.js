// Passkeys for reviewers: adding one, signing in with one, and the step-up before an action
// that gives a domain away. The server gives the options as JSON; the browser asks the
// passkey (navigator.credentials); its answer goes back as a form with the page's CSRF
// token. A button carries data-passkey="register", "sign-in" or "step-up"; its box
// (data-passkey-box) holds the token, the status line and, for a step-up, the form to send
// once the passkey has answered.
(function () {
  "use strict";
  var buttons = document.querySelectorAll("[data-passkey]");
  if (!buttons.length) { return; }
  var supported = window.PublicKeyCredential &&
    typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function";

  function post(url, fields) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Accept": "application/json" },
      body: new URLSearchParams(fields)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (answer) {
        if (!response.ok) { throw new Error(answer.error || response.statusText); }
        return answer;
      });
    });
  }

  function ask(kind, options) {
    if (kind === "register") {
      return navigator.credentials.create({
        publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options.publicKey)
      });
    }
    return navigator.credentials.get({
      publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options.publicKey)
    });
  }

  function run(button) {
    var kind = button.getAttribute("data-passkey");
    var box = button.closest("[data-passkey-box]");
    var status = box.querySelector("[data-passkey-status]");
    var fields = { csrf_token: box.querySelector("input[name=csrf_token]").value };
    var base = "/review/passkeys/" + kind;
    var name = box.querySelector("input[name=passkey_name]");
    status.hidden = true;
    button.disabled = true;
    post(base + "/start", fields).then(function (started) {
      return ask(kind, started.options).then(function (credential) {
        fields.ceremony = started.ceremony;
        fields.credential = JSON.stringify(credential.toJSON());
        if (name) { fields.name = name.value; }
        return post(base + "/finish", fields);
      });
    }).then(function (done) {
      if (kind === "step-up") {
        box.querySelector("form[data-after-step-up]").submit();
      } else {
        window.location.assign(done.next);
      }
    }).catch(function (error) {
      status.textContent = error.name === "NotAllowedError"
        ? status.getAttribute("data-cancelled") : error.message;
      status.hidden = false;
      button.disabled = false;
    });
  }

  buttons.forEach(function (button) {
    if (!supported) {
      button.disabled = true;
      var status = button.closest("[data-passkey-box]").querySelector("[data-passkey-status]");
      status.textContent = status.getAttribute("data-unsupported");
      status.hidden = false;
      return;
    }
    button.addEventListener("click", function (event) {
      event.preventDefault();
      run(button);
    });
  });
})();
