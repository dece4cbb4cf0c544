// The live moderation queue: an enhancement of the plain queue page (which works without it).
//
// Listens on the queue's websocket (data-ws-path) for `queue.changed` and `queue.removed`. For a
// changed item it fetches the item's server-rendered fragment (data-item-url + kind/id) and
// inserts it in urgency order (data-order, ascending = most urgent) or replaces the old one; a
// removed item is taken out. Every change is announced in the aria-live region #queue-live.
// An item the moderator is working in (focus inside, or a form field changed) is never replaced
// under their hands: it gets a note instead, and the next reload shows the new state.
// A ping every 30 seconds keeps the connection alive and makes the server re-check the rights.
(function () {
  "use strict";

  var root = document.getElementById("queue");
  if (!root || !("WebSocket" in window) || !window.fetch) {
    return;
  }
  var list = document.getElementById("queue-items");
  var live = document.getElementById("queue-live");
  var empty = document.getElementById("queue-empty");
  var wsPath = root.getAttribute("data-ws-path");
  var itemUrl = root.getAttribute("data-item-url");
  var listUrl = root.getAttribute("data-list-url");
  var texts = {
    added: root.getAttribute("data-text-added") || "New in the queue:",
    changed: root.getAttribute("data-text-changed") || "Updated:",
    removed: root.getAttribute("data-text-removed") || "An item left the queue.",
    stale: root.getAttribute("data-text-stale") || "This item has changed. Reload to see it.",
    offline: root.getAttribute("data-text-offline") || "Live updates paused. Reconnecting…",
    online: root.getAttribute("data-text-online") || "Live updates are on."
  };
  var socket = null;
  var pingTimer = null;
  var retry = 1000;
  var wasOffline = false;
  var closedForGood = false;

  function announce(text) {
    if (!live) {
      return;
    }
    // Clear first so that the same text twice is announced twice.
    live.textContent = "";
    window.setTimeout(function () {
      live.textContent = text;
    }, 50);
  }

  function updateEmpty() {
    if (empty) {
      empty.hidden = list.children.length > 0;
    }
  }

  function itemId(kind, pk) {
    return "queue-" + kind + "-" + pk;
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
      note.className = "queue-stale notice";
      item.insertBefore(note, item.firstChild);
    }
    note.textContent = texts.stale;
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

  function label(node) {
    var heading = node.querySelector(".queue-item-label");
    return heading ? heading.textContent.replace(/\s+/g, " ").trim() : "";
  }

  function remove(kind, pk, quiet) {
    var old = document.getElementById(itemId(kind, pk));
    if (!old) {
      return;
    }
    if (isBusy(old)) {
      markStale(old);
      return;
    }
    old.parentNode.removeChild(old);
    updateEmpty();
    if (!quiet) {
      announce(texts.removed);
    }
  }

  function refresh(kind, pk) {
    var url = itemUrl + encodeURIComponent(kind) + "/" + encodeURIComponent(pk) + "/?next=" +
      encodeURIComponent(window.location.pathname);
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (response.status === 404 || response.status === 403 || response.status === 410) {
          remove(kind, pk, false);
          return null;
        }
        if (!response.ok || response.redirected) {
          // A redirect means the session ended (the login page): never insert that.
          return null;
        }
        return response.text();
      })
      .then(function (html) {
        if (!html) {
          return;
        }
        var holder = document.createElement("template");
        holder.innerHTML = html.trim();
        var node = holder.content.firstElementChild;
        if (!node || !node.classList.contains("queue-item") || node.id !== itemId(kind, pk)) {
          return;
        }
        var old = document.getElementById(node.id);
        if (old) {
          if (isBusy(old)) {
            markStale(old);
            return;
          }
          old.parentNode.removeChild(old);
          place(node);
          announce(texts.changed + " " + label(node));
        } else {
          place(node);
          announce(texts.added + " " + label(node));
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
          place(node);
        }
        var current = Array.prototype.slice.call(list.children);
        current.forEach(function (item) {
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
        remove(key.kind, key.pk, false);
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
        announce(texts.online);
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
        announce(texts.offline);
      }
      window.setTimeout(connect, retry + Math.random() * retry);
      retry = Math.min(retry * 2, 30000);
    });
  }

  updateEmpty();
  connect();
})();
