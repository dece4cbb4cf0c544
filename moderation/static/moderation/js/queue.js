// The moderation queue: an enhancement of the plain queue page (which works without it).
//
// 1. Actions in place. Every form of a case is sent with fetch (header X-Requested-With: fetch,
//    the form's own CSRF token); the server checks exactly what it checks for the plain form and
//    answers JSON {ok, message, case, html} (moderation/answers.py). `html` is the case rendered
//    by the server's one case template, or "" once the case left the queue. The case is replaced
//    (or removed), the focus stays on the case (or moves to the next one), and the message is
//    announced once in the page's live region.
// 2. Destructive forms (data-confirm) ask once, inline: "Really …? [Yes, …] [Cancel]"; the
//    question takes the focus. The no-script "Yes, I am sure" box is hidden and ticked on "Yes".
// 3. Keyboard shortcuts (j/k, c, e, h, n, r, ?), documented in the page's help, off by default.
// 4. Live updates: `queue.changed` / `queue.removed` on the queue's websocket fetch the case's
//    fragment and insert it in urgency order (data-order), or take it out. A case the moderator is
//    working in (focus inside, or a field changed) is never replaced under their hands.
(function () {
  "use strict";

  var root = document.getElementById("queue");
  if (!root || !window.fetch) {
    return;
  }
  var list = document.getElementById("queue-items");
  var empty = document.getElementById("queue-empty");
  var wsPath = root.getAttribute("data-ws-path");
  var itemUrl = root.getAttribute("data-item-url");
  var listUrl = root.getAttribute("data-list-url");

  function text(name, fallback) {
    return root.getAttribute("data-text-" + name) || fallback;
  }

  // --- announcing ------------------------------------------------------------------------------

  // site.js (the page shell, loaded first by base.html) provides Mitmachen.announce: the page's
  // one polite region #live-announcer, batched, never repeated.
  function announce(message) {
    window.Mitmachen.announce(message);
  }

  // --- cases -----------------------------------------------------------------------------------

  function cases() {
    return Array.prototype.slice.call(list.querySelectorAll("li.queue-item"));
  }

  function caseOf(node) {
    return node && node.closest ? node.closest("li.queue-item") : null;
  }

  function focusHeading(item) {
    var heading = item && item.querySelector(".queue-item-label");
    if (heading) {
      heading.focus();
    }
  }

  function updateEmpty() {
    if (empty) {
      empty.hidden = list.children.length > 0;
    }
  }

  function place(node) {
    var order = node.getAttribute("data-order") || "";
    var children = list.children;
    for (var i = 0; i < children.length; i++) {
      if ((children[i].getAttribute("data-order") || "") > order) {
        list.insertBefore(node, children[i]);
        return;
      }
    }
    list.appendChild(node);
  }

  function parseCase(html) {
    var holder = document.createElement("template");
    holder.innerHTML = (html || "").trim();
    var node = holder.content.firstElementChild;
    return node && node.classList.contains("queue-item") ? node : null;
  }

  function label(node) {
    var heading = node.querySelector(".queue-item-label");
    return heading ? heading.textContent.replace(/\s+/g, " ").trim() : "";
  }

  // Take a case out; the focus goes to the next case, else the previous, else the empty note.
  function takeOut(item, moveFocus) {
    var next = item.nextElementSibling || item.previousElementSibling;
    item.parentNode.removeChild(item);
    updateEmpty();
    if (moveFocus) {
      if (next) {
        focusHeading(next);
      } else if (empty) {
        empty.focus();
      }
    }
  }

  // --- actions in place ------------------------------------------------------------------------

  var busy = false;

  function showError(item, message) {
    var box = item.querySelector("[data-case-error]");
    if (box) {
      box.textContent = message;
      box.hidden = false;
    }
    announce(message);
  }

  // The element to focus in a replaced case: the same action's button if it is still there
  // (an invalid form), else the case's actions, else its heading.
  function focusAfter(item, actionName) {
    var target = null;
    if (actionName === "claim") {
      target = item.querySelector("[data-case-panel] > summary");
    }
    (target || item.querySelector(".queue-item-label")).focus();
  }

  function send(form) {
    if (busy) {
      return;
    }
    var item = caseOf(form);
    var actionName = form.getAttribute("data-case-action") || "";
    var submitter = form.querySelector("button[type=submit]");
    busy = true;
    if (submitter) {
      submitter.setAttribute("aria-disabled", "true");
    }
    var body = new FormData(form);
    var token = body.get("csrfmiddlewaretoken") || "";
    fetch(form.action, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch", "X-CSRFToken": token, "Accept": "application/json" }
    })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (response.redirected || type.indexOf("application/json") === -1) {
          // The login page (session ended) or a CSRF refusal: never insert that.
          return { ok: false, message: text("failed", "The action could not be sent."), html: "" };
        }
        return response.json().then(function (data) {
          data.status = response.status;
          return data;
        });
      })
      .then(function (data) {
        busy = false;
        if (submitter) {
          submitter.removeAttribute("aria-disabled");
        }
        if (!item.parentNode) {
          return;
        }
        var fresh = data.html ? parseCase(data.html) : null;
        if (data.ok || data.status === 409) {
          // Done, or the case changed meanwhile: show the case as it is now, or take it out.
          if (fresh) {
            hideConfirmBoxes(fresh);
            item.parentNode.replaceChild(fresh, item);
            if (data.ok) {
              focusAfter(fresh, actionName);
            } else {
              showError(fresh, data.message);
              focusHeading(fresh);
              return;
            }
          } else {
            takeOut(item, true);
          }
          announce(data.message);
          return;
        }
        // Refused or invalid: the case stays as it is, with the reason; the focus stays put.
        showError(item, data.message || text("failed", "The action could not be sent."));
        if (submitter) {
          submitter.focus();
        }
      })
      .catch(function () {
        busy = false;
        if (submitter) {
          submitter.removeAttribute("aria-disabled");
        }
        showError(item, text("failed", "The action could not be sent."));
      });
  }

  // --- asking once -----------------------------------------------------------------------------

  var confirmCount = 0;

  function closeConfirm(form, refocus) {
    var step = form.querySelector(".confirm-step");
    if (step) {
      step.parentNode.removeChild(step);
    }
    var submitter = form.querySelector("button[type=submit]");
    if (submitter) {
      submitter.hidden = false;
      if (refocus) {
        submitter.focus();
      }
    }
  }

  function askOnce(form) {
    if (form.querySelector(".confirm-step")) {
      return;
    }
    var submitter = form.querySelector("button[type=submit]");
    confirmCount += 1;
    var step = document.createElement("div");
    step.className = "confirm-step";
    step.setAttribute("role", "group");
    var question = document.createElement("p");
    question.className = "confirm-question";
    question.id = "confirm-question-" + confirmCount;
    question.tabIndex = -1;
    question.textContent = form.getAttribute("data-confirm");
    step.setAttribute("aria-labelledby", question.id);
    var yes = document.createElement("button");
    yes.type = "button";
    yes.className = "button button--danger";
    yes.textContent = form.getAttribute("data-confirm-yes");
    var no = document.createElement("button");
    no.type = "button";
    no.className = "button button--quiet";
    no.textContent = text("cancel", "Cancel");
    yes.addEventListener("click", function () {
      var box = form.querySelector("[data-confirm-box] input[type=checkbox]");
      if (box) {
        box.checked = true;
      }
      closeConfirm(form, false);
      if (submitter) {
        submitter.focus();
      }
      send(form);
    });
    no.addEventListener("click", function () {
      closeConfirm(form, true);
    });
    step.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        event.preventDefault();
        closeConfirm(form, true);
      }
    });
    step.appendChild(question);
    step.appendChild(yes);
    step.appendChild(no);
    if (submitter) {
      submitter.hidden = true;
      submitter.parentNode.insertBefore(step, submitter.nextSibling);
    } else {
      form.appendChild(step);
    }
    question.focus();
  }

  // The inline question replaces the no-script box.
  function hideConfirmBoxes(scope) {
    var boxes = scope.querySelectorAll("[data-confirm-box]");
    for (var i = 0; i < boxes.length; i++) {
      boxes[i].hidden = true;
    }
  }

  list.addEventListener("submit", function (event) {
    var form = event.target;
    if (!caseOf(form)) {
      return;
    }
    event.preventDefault();
    if (form.hasAttribute("data-confirm")) {
      askOnce(form);
    } else {
      send(form);
    }
  });

  // --- keyboard shortcuts ----------------------------------------------------------------------

  // Single-key shortcuts are off by default: WCAG 2.1.4 (Character Key Shortcuts) asks for a way
  // to turn them off, and a screen reader in browse mode uses the same letters (h: next heading,
  // k: next link ...). A moderator who wants them turns them on in the help; the choice is kept
  // in localStorage. They never act while the focus is in a text field, and never submit: they
  // open a form and move the focus there.
  var STORAGE_KEY = "mitmachen.moderation.shortcuts";
  var toggle = document.getElementById("shortcut-toggle");
  var help = document.getElementById("shortcut-help");
  var shortcutsOn = false;
  try {
    shortcutsOn = window.localStorage.getItem(STORAGE_KEY) === "on";
  } catch (e) {
    shortcutsOn = false;
  }

  function showToggle() {
    if (toggle) {
      toggle.setAttribute("aria-pressed", shortcutsOn ? "true" : "false");
      toggle.closest("[data-needs-script]").hidden = false;
    }
  }

  if (toggle) {
    toggle.addEventListener("click", function () {
      shortcutsOn = !shortcutsOn;
      try {
        window.localStorage.setItem(STORAGE_KEY, shortcutsOn ? "on" : "off");
      } catch (e) {
        /* Private mode: the choice lasts until the page is left. */
      }
      showToggle();
      announce(shortcutsOn ? text("shortcuts-on", "Shortcuts on.") : text("shortcuts-off", "Shortcuts off."));
    });
  }

  function inTextField(node) {
    if (!node || !node.tagName) {
      return false;
    }
    var tag = node.tagName.toLowerCase();
    return tag === "textarea" || tag === "select" || node.isContentEditable ||
      (tag === "input" && ["checkbox", "radio", "button", "submit"].indexOf(node.type) === -1);
  }

  function currentCase() {
    var item = caseOf(document.activeElement);
    return item || cases()[0] || null;
  }

  function openAction(item, action) {
    var panel = item.querySelector("[data-case-panel]");
    var details = item.querySelector("details.queue-action[data-action=" + action + "]");
    if (!panel || !details) {
      return false;
    }
    panel.open = true;
    details.open = true;
    var field = details.querySelector("input:not([type=hidden]), select, textarea");
    (field || details.querySelector("summary")).focus();
    return true;
  }

  document.addEventListener("keydown", function (event) {
    if (!shortcutsOn || event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    if (inTextField(event.target)) {
      return;
    }
    var key = event.key;
    var item = currentCase();
    var all = cases();
    var handled = true;
    if (key === "?") {
      help.open = !help.open;
      help.querySelector("summary").focus();
    } else if (!item) {
      handled = false;
    } else if (key === "j" || key === "k") {
      var index = all.indexOf(caseOf(document.activeElement));
      var target = index === -1 ? all[0] : all[index + (key === "j" ? 1 : -1)];
      if (target) {
        focusHeading(target);
      }
    } else if (key === "c") {
      var claim = item.querySelector("[data-case-action=claim]");
      if (claim) {
        send(claim);
      }
    } else if (key === "e") {
      var panel = item.querySelector("[data-case-panel]");
      if (panel) {
        panel.open = !panel.open;
        panel.querySelector("summary").focus();
      }
    } else if (key === "h") {
      handled = openAction(item, "hide");
    } else if (key === "n") {
      handled = openAction(item, "dismiss");
    } else if (key === "r") {
      handled = openAction(item, "restore");
    } else {
      handled = false;
    }
    if (handled) {
      event.preventDefault();
    }
  });

  hideConfirmBoxes(list);
  showToggle();
  updateEmpty();

  // --- live updates ----------------------------------------------------------------------------

  if (!("WebSocket" in window) || !wsPath) {
    return;
  }
  var socket = null;
  var pingTimer = null;
  var retry = 1000;
  var wasOffline = false;
  var closedForGood = false;

  function itemId(kind, pk) {
    return kind + "-" + pk;
  }

  function isBusy(item) {
    if (item.contains(document.activeElement)) {
      return true;
    }
    var fields = item.querySelectorAll("textarea, input[type=text], input[type=datetime-local]");
    for (var i = 0; i < fields.length; i++) {
      if (fields[i].value !== fields[i].defaultValue) {
        return true;
      }
    }
    var checks = item.querySelectorAll("input[type=radio], input[type=checkbox]");
    for (var j = 0; j < checks.length; j++) {
      if (checks[j].checked !== checks[j].defaultChecked) {
        return true;
      }
    }
    return false;
  }

  function markStale(item) {
    var note = item.querySelector(".queue-stale");
    if (!note) {
      note = document.createElement("p");
      note.className = "queue-stale notice notice--warning";
      item.insertBefore(note, item.firstChild);
    }
    note.textContent = text("stale", "This item has changed. Reload to see it.");
  }

  function remove(kind, pk) {
    var old = document.getElementById(itemId(kind, pk));
    if (!old) {
      return;
    }
    if (isBusy(old)) {
      markStale(old);
      return;
    }
    takeOut(old, false);
    announce(text("removed", "An item left the queue."));
  }

  function refresh(kind, pk) {
    var url = itemUrl + encodeURIComponent(kind) + "/" + encodeURIComponent(pk) + "/?next=" +
      encodeURIComponent(window.location.pathname);
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (response.status === 404 || response.status === 403 || response.status === 410) {
          remove(kind, pk);
          return null;
        }
        if (!response.ok || response.redirected) {
          return null;
        }
        return response.text();
      })
      .then(function (html) {
        var node = html ? parseCase(html) : null;
        if (!node || node.id !== itemId(kind, pk)) {
          return;
        }
        hideConfirmBoxes(node);
        var old = document.getElementById(node.id);
        if (old) {
          // The echo of this moderator's own action: nothing new to show or say.
          if (old.getAttribute("data-version") === node.getAttribute("data-version")) {
            return;
          }
          if (isBusy(old)) {
            markStale(old);
            return;
          }
          old.parentNode.removeChild(old);
          place(node);
          announce(text("changed", "Updated:") + " " + label(node));
        } else {
          place(node);
          announce(text("added", "New in the queue:") + " " + label(node));
        }
        updateEmpty();
      })
      .catch(function () {
        /* The next event or reconnect brings the state back. */
      });
  }

  function reloadList() {
    // After a reconnect: events may have been missed, so take the whole list from the server.
    if (!listUrl) {
      return;
    }
    fetch(listUrl, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        return response.ok && !response.redirected ? response.text() : null;
      })
      .then(function (html) {
        if (html === null) {
          return;
        }
        var holder = document.createElement("template");
        holder.innerHTML = html;
        var fresh = holder.content.querySelectorAll("li.queue-item");
        var seen = {};
        for (var i = 0; i < fresh.length; i++) {
          var node = fresh[i];
          seen[node.id] = true;
          var old = document.getElementById(node.id);
          if (old && isBusy(old)) {
            continue;
          }
          if (old) {
            old.parentNode.removeChild(old);
          }
          hideConfirmBoxes(node);
          place(node);
        }
        cases().forEach(function (item) {
          if (!seen[item.id] && !isBusy(item)) {
            item.parentNode.removeChild(item);
          }
        });
        updateEmpty();
      })
      .catch(function () {});
  }

  function keyOf(event) {
    // Every queue item is a case: {"type": "queue.changed", "case": 12, ...}.
    var pk = event["case"];
    if (typeof pk !== "number" || pk < 1 || Math.floor(pk) !== pk) {
      return null;
    }
    return { kind: "case", pk: String(pk) };
  }

  function onMessage(message) {
    var event;
    try {
      event = JSON.parse(message.data);
    } catch (e) {
      return;
    }
    if (!event || typeof event.type !== "string") {
      return;
    }
    if (event.type === "queue.changed" || event.type === "queue.removed") {
      var key = keyOf(event);
      if (!key) {
        reloadList();
      } else if (event.type === "queue.changed") {
        refresh(key.kind, key.pk);
      } else {
        remove(key.kind, key.pk);
      }
    } else if (event.type === "error" && event.code === "forbidden") {
      closedForGood = true;
      announce(event.message || "");
    }
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + wsPath);
    socket.addEventListener("open", function () {
      retry = 1000;
      root.setAttribute("data-live", "on");
      if (wasOffline) {
        wasOffline = false;
        announce(text("online", "Live updates are on."));
        reloadList();
      }
      pingTimer = window.setInterval(function () {
        if (socket && socket.readyState === WebSocket.OPEN) {
          socket.send(JSON.stringify({ type: "ping" }));
        }
      }, 30000);
    });
    socket.addEventListener("message", onMessage);
    socket.addEventListener("close", function (event) {
      root.setAttribute("data-live", "off");
      window.clearInterval(pingTimer);
      if (closedForGood || event.code === 4403 || event.code === 4404) {
        return;
      }
      if (!wasOffline) {
        wasOffline = true;
        announce(text("offline", "Live updates paused. Reconnecting…"));
      }
      window.setTimeout(connect, retry + Math.random() * retry);
      retry = Math.min(retry * 2, 30000);
    });
  }

  connect();
})();
