/* Mitmachen: the page shell's script, on every page (deferred; no inline code, CSP-compatible).
 *
 * window.Mitmachen.announce(text): speak a short message through the page's one polite live
 * region (#live-announcer in base.html). Messages arriving within BATCH_MS are read as one
 * announcement; the same text is never read twice in a row: an announcement equal to the one
 * still in the region is dropped. The region is emptied QUIET_MS after it spoke, so the same text
 * can be announced again later.
 *
 * window.Mitmachen.postForm(action, data, options): POST a form's data (FormData, its CSRF token
 * included) the way the pages' scripts send forms in place, asking for JSON (Accept and
 * X-Requested-With: both conventions the views know). A busy server (503 with retry_after,
 * deliberation/overload.py) is asked again after its hint, spread out (1x to 2x the hint, so that
 * everyone sent back at once does not return at once), up to MAX_TRIES times; options.onBusy(message)
 * is called once, at the first busy answer. Resolves to {status, ok, body}: body is the JSON answer,
 * or null when the answer was not JSON. Rejects when the network fails.
 *
 * window.Mitmachen.initMenu(): the header's menu button below 600 px (aria-expanded, Escape closes
 * and returns focus to the button). Without scripts the navigation simply stays open.
 */
(function () {
  "use strict";

  var Mitmachen = (window.Mitmachen = window.Mitmachen || {});

  // --- announcements ---------------------------------------------------------------------------
  var BATCH_MS = 1000;
  var QUIET_MS = 5000;
  var pending = [];
  var batchTimer = null;
  var quietTimer = null;
  var spoken = "";

  function announcer() {
    return document.getElementById("live-announcer");
  }

  function flush() {
    batchTimer = null;
    var text = pending.join(" ");
    pending = [];
    var region = announcer();
    if (!region || !text || text === spoken) {
      return;
    }
    spoken = text;
    // Empty first, then set on the next frame: screen readers notice a change of content.
    region.textContent = "";
    window.setTimeout(function () {
      region.textContent = text;
    }, 50);
    if (quietTimer) {
      window.clearTimeout(quietTimer);
    }
    quietTimer = window.setTimeout(function () {
      quietTimer = null;
      spoken = "";
      region.textContent = "";
    }, QUIET_MS);
  }

  Mitmachen.announce = function (text) {
    text = String(text == null ? "" : text).replace(/\s+/g, " ").trim();
    if (!text) {
      return;
    }
    if (pending.indexOf(text) === -1) {
      pending.push(text);
    }
    if (!batchTimer) {
      batchTimer = window.setTimeout(flush, BATCH_MS);
    }
  };

  // --- forms sent in place ----------------------------------------------------------------------
  var MAX_TRIES = 5;

  Mitmachen.postForm = function (action, data, options) {
    var onBusy = (options && options.onBusy) || function () {};
    function attempt(tries) {
      return window
        .fetch(action, {
          method: "POST",
          body: data,
          credentials: "same-origin",
          headers: { Accept: "application/json", "X-Requested-With": "fetch" },
        })
        .then(function (response) {
          return response
            .json()
            .catch(function () { return null; })
            .then(function (body) { return { status: response.status, ok: response.ok, body: body }; });
        })
        .then(function (answer) {
          var hint = answer.body && answer.body.retry_after;
          if (answer.status !== 503 || !(hint > 0) || tries >= MAX_TRIES) {
            return answer;
          }
          if (tries === 1) onBusy(answer.body.message);
          return new Promise(function (resolve) {
            window.setTimeout(resolve, hint * 1000 * (1 + Math.random()));
          }).then(function () { return attempt(tries + 1); });
        });
    }
    return attempt(1);
  };

  // --- the header's menu button ----------------------------------------------------------------
  Mitmachen.initMenu = function () {
    var button = document.querySelector("[data-menu-button]");
    if (!button || button.hasAttribute("data-menu-ready")) {
      return; // no menu, or wired already (a second call must not toggle twice per click)
    }
    button.setAttribute("data-menu-ready", "");
    var menu = document.getElementById(button.getAttribute("aria-controls"));
    if (!menu) {
      return;
    }

    function setOpen(open) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
      menu.classList.toggle("is-open", open);
    }

    button.addEventListener("click", function () {
      setOpen(button.getAttribute("aria-expanded") !== "true");
    });
    function closeOnEscape(event) {
      if (event.key !== "Escape" || button.getAttribute("aria-expanded") !== "true") {
        return;
      }
      // Only where the button is shown (below 600 px); on wide screens the menu is always open.
      if (button.offsetParent === null) {
        return;
      }
      event.preventDefault();
      setOpen(false);
      button.focus();
    }
    button.addEventListener("keydown", closeOnEscape);
    menu.addEventListener("keydown", closeOnEscape);
  };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", Mitmachen.initMenu);
  } else {
    Mitmachen.initMenu();
  }
})();

/* Forms and messages: where focus goes when a page loads (helper functions of their own). */
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
