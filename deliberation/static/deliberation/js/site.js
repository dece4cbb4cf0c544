/* Mitmachen: small helpers every page uses. No dependencies; each part is one function. */
(function () {
  "use strict";

  /* Error summary (templates/deliberation/_error_summary.html): when a form comes back with
     errors, focus moves to the summary so a screen reader reads it and Tab continues from it.
     A link in it moves focus to its field (not only scrolls) and shows the field's label.
     Returns true when it took focus. */
  function focusErrorSummary() {
    var summary = document.querySelector(".error-summary[data-autofocus]");
    if (!summary) {
      return false;
    }
    summary.addEventListener("click", function (event) {
      var link = event.target.closest("a[href^='#']");
      if (!link) {
        return;
      }
      var field = document.getElementById(decodeURIComponent(link.getAttribute("href").slice(1)));
      if (!field) {
        return;
      }
      event.preventDefault();
      var details = field.closest("details");
      if (details) {
        details.open = true; // a field in a folded moderation action
      }
      var holder = field.closest("fieldset, .field") || field;
      holder.scrollIntoView({ block: "start" });
      field.focus({ preventScroll: true });
    });
    summary.focus();
    return true;
  }

  /* Messages after a redirect (templates/deliberation/_messages.html): focus the notice when
     the page loads, so it is read once. A page opened at an anchor keeps its place; the text goes
     to the polite live region instead (Mitmachen.announce, from the page shell). */
  function focusMessages() {
    var box = document.querySelector(".messages[data-autofocus]");
    if (!box) {
      return;
    }
    var hash = window.location.hash.slice(1);
    var target = hash ? document.getElementById(decodeURIComponent(hash)) : null;
    if (!target) {
      box.focus();
      return;
    }
    var announce = window.Mitmachen && window.Mitmachen.announce;
    if (typeof announce === "function") {
      announce(box.textContent.replace(/\s+/g, " ").trim());
    }
  }

  function ready() {
    if (!focusErrorSummary()) {
      focusMessages();
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
