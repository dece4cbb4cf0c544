/* The components page: the toggle examples switch when pressed, as real ones do. */
(function () {
  "use strict";
  document.querySelectorAll("#toggles .toggle").forEach(function (button) {
    button.addEventListener("click", function () {
      var pressed = button.getAttribute("aria-pressed") === "true";
      button.setAttribute("aria-pressed", pressed ? "false" : "true");
    });
  });
})();
