/* The decisions calendar: the follow buttons toggle in place (deferred; no inline code).
 *
 * Without scripts each follow button is a POST form answered with a message and the same page.
 * With them, the form is sent in place (Mitmachen.postForm, site.js: the same CSRF token, JSON
 * asked for, a busy server asked again after its hint); the button's aria-pressed and the form's next value change in place and the server's sentence is
 * announced through the page's one live region (window.Mitmachen.announce). On any failure the
 * form is sent the ordinary way.
 */
(function () {
  "use strict";

  function setState(form, following) {
    var button = form.querySelector("[data-follow-button]");
    var value = form.querySelector("[data-follow-value]");
    button.setAttribute("aria-pressed", following ? "true" : "false");
    value.value = following ? "0" : "1";
  }

  function onSubmit(event) {
    var form = event.target.closest("[data-follow-form]");
    var M = window.Mitmachen || {};
    if (!form || !window.fetch || !M.postForm || form.hasAttribute("data-sending")) {
      return;
    }
    event.preventDefault();
    var button = form.querySelector("[data-follow-button]");
    form.setAttribute("data-sending", "");
    button.setAttribute("aria-disabled", "true");
    M.postForm(form.action, new FormData(form), { onBusy: M.announce })
      .then(function (answer) {
        if (!answer.ok || !answer.body) {
          throw new Error("follow failed: " + answer.status);
        }
        return answer.body;
      })
      .then(function (data) {
        // Every button of the same topic on the page (list and aside) shows the same state.
        document.querySelectorAll("[data-follow-form]").forEach(function (other) {
          if (other.action === form.action) {
            setState(other, data.following);
          }
        });
        if (window.Mitmachen && window.Mitmachen.announce) {
          window.Mitmachen.announce(data.message);
        }
      })
      .catch(function () {
        form.removeAttribute("data-sending");
        form.submit();
      })
      .then(function () {
        form.removeAttribute("data-sending");
        button.removeAttribute("aria-disabled");
      });
  }

  document.addEventListener("submit", onSubmit);
})();
