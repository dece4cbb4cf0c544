// The organisers' invitation links: a "Copy the link" button beside each (shown only where a
// script runs; without it the read-only field is there to select). Says "copied" once, politely.
(function () {
  "use strict";
  const status = document.querySelector("[data-copy-status]");
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    const field = document.getElementById(button.dataset.copy);
    if (!field) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      const done = function () {
        if (status) {
          status.textContent = "";
          window.setTimeout(function () { status.textContent = status.dataset.copied; }, 50);
        }
      };
      const fallback = function () {
        field.focus();
        field.select();
        try { document.execCommand("copy"); } catch (error) { /* selected: the reader copies */ }
        button.focus();
        done();
      };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(field.value).then(done, fallback);
      } else {
        fallback();
      }
    });
  });
})();
