// Small page helpers: copy buttons, secret reveal, body views, confirmations.
// Delegated listeners so rows added later (live.js) work without rebinding.
(function () {
  "use strict";

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    // Plain-HTTP pages (a LAN install) have no Clipboard API.
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    try {
      document.execCommand("copy");
    } finally {
      document.body.removeChild(area);
    }
    return Promise.resolve();
  }

  function flash(button, label) {
    var original = button.dataset.label || button.textContent;
    button.dataset.label = original;
    button.textContent = label;
    button.classList.add("copied");
    window.setTimeout(function () {
      button.textContent = original;
      button.classList.remove("copied");
    }, 1500);
  }

  document.addEventListener("click", function (event) {
    var copy = event.target.closest("[data-copy], [data-copy-target]");
    if (copy) {
      var text = copy.dataset.copy;
      if (text === undefined) {
        var target = document.querySelector(copy.dataset.copyTarget);
        text = target ? target.textContent : "";
      }
      copyText(text).then(
        function () { flash(copy, "Copied"); },
        function () { flash(copy, "Copy failed"); }
      );
      return;
    }
    var view = event.target.closest("[data-body-view]");
    if (view) {
      // Body views of the event page: one panel shown at a time.
      var section = view.closest("section");
      section.querySelectorAll("[data-body-view]").forEach(function (button) {
        button.setAttribute("aria-pressed", button === view ? "true" : "false");
      });
      section.querySelectorAll("[data-body-panel]").forEach(function (panel) {
        panel.hidden = panel.dataset.bodyPanel !== view.dataset.bodyView;
      });
      return;
    }
    var reveal = event.target.closest("[data-reveal]");
    if (reveal) {
      var box = reveal.parentElement;
      var secret = box.querySelector("[data-secret]");
      var mask = box.querySelector("[data-secret-mask]");
      var showing = !secret.hidden;
      secret.hidden = showing;
      if (mask) mask.hidden = !showing;
      reveal.textContent = showing ? "Reveal" : "Hide";
    }
  });

  document.addEventListener("submit", function (event) {
    var message = event.target.dataset.confirm;
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });
})();
