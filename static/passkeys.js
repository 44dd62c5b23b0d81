// Passkeys for reviewers: adding one (on the account page, or through a one-time enrolment
// link), signing in with one, and the step-up before an action that gives a domain away.
// The server gives the options as JSON; the browser asks the passkey
// (navigator.credentials); its answer goes back as a form with the page's CSRF token. A
// button carries data-passkey="register", "enrol", "sign-in" or "step-up"; its box
// (data-passkey-box) holds the token, the status line and, for a step-up, the form to send
// once the passkey has answered. Where adding a passkey needs a fresh step-up, the server
// says so and the page asks for an existing passkey first, then starts again.
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
        if (!response.ok) {
          var error = new Error(answer.error || response.statusText);
          error.stepUp = answer.step_up === true;
          forget(answer.unknown_credential);
          throw error;
        }
        return answer;
      });
    });
  }

  function ask(kind, options) {
    if (kind === "register" || kind === "enrol") {
      return navigator.credentials.create({
        publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options.publicKey)
      });
    }
    return navigator.credentials.get({
      publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options.publicKey)
    });
  }

  // A ceremony: its options from base/start, the device's answer to base/finish.
  function ceremony(kind, base, startFields, finishFields) {
    return post(base + "/start", startFields).then(function (started) {
      return ask(kind, started.options).then(function (credential) {
        finishFields.ceremony = started.ceremony;
        finishFields.credential = JSON.stringify(credential.toJSON());
        return post(base + "/finish", finishFields);
      });
    });
  }

  // Tells the device to forget a passkey the desk does not know, where the browser can.
  function forget(unknown) {
    if (unknown && typeof PublicKeyCredential.signalUnknownCredential === "function") {
      PublicKeyCredential.signalUnknownCredential(unknown).catch(function () {});
    }
  }

  function run(button) {
    var kind = button.getAttribute("data-passkey");
    var box = button.closest("[data-passkey-box]");
    var status = box.querySelector("[data-passkey-status]");
    var token = box.querySelector("input[name=csrf_token]").value;
    var base = "/review/passkeys/" + kind;
    var start = { csrf_token: token };
    var finish = { csrf_token: token };
    var name = box.querySelector("input[name=passkey_name]");
    var current = box.querySelector("input[name=passkey_current]");
    var link = box.querySelector("input[name=link]");
    if (name) { start.name = name.value; }
    if (current) { start.current = current.value; }
    if (link) { start.link = link.value; finish.link = link.value; }
    status.hidden = true;
    button.disabled = true;
    ceremony(kind, base, start, finish).catch(function (error) {
      if (!error.stepUp) { throw error; }
      var again = { csrf_token: token };
      return ceremony("step-up", "/review/passkeys/step-up", { csrf_token: token }, again)
        .then(function () { return ceremony(kind, base, start, finish); });
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
