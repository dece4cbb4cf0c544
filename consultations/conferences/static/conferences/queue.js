/*
 * The speaker queue (Redeliste), live: re-renders the queue's region ([data-queue], on the
 * conference page and on the projector) from each queue.changed snapshot, by cloning the
 * region's own <template>; one markup for reload and live.
 *
 * - Registers Mitmachen.conferenceHandlers["queue.changed"] and ["agenda.current"] (conference.js
 *   dispatches the conference stream's events to them).
 * - The countdown is computed here from the speaker's started_at and seconds, against the server's
 *   clock: this browser's clock plus one offset, taken from the stream's hello ("now", once per
 *   connection; Mitmachen.serverClock, set by conference.js), and before any hello from a
 *   snapshot read just now (the page's, or the snapshot URL's). Never from an event: an event is
 *   stored and may be replayed or arrive late, so a time it carried would be stale and the
 *   countdown would start again from the full time. The one speaking hears once when 30 s remain.
 * - The one called hears "Du hast das Wort" at once (main[data-me] against the entry's member),
 *   and sees the video link; everyone else hears who has the floor.
 * - The region's forms ([data-queue-form]) are sent with fetch; the answer is announced, a
 *   refusal shown in the region. Without JavaScript they are plain forms.
 */
(function () {
  "use strict";
  var M = (window.Mitmachen = window.Mitmachen || {});
  M.conferenceHandlers = M.conferenceHandlers || {};

  var pageOffset = 0; // server clock minus this browser's, in ms, from a snapshot read just now
  var current = null; // the snapshot shown
  var timer = null;
  var said = {}; // what was announced once: "floor:<id>", "low:<id>", "who:<id>"

  function on(type, fn) {
    (M.conferenceHandlers[type] = M.conferenceHandlers[type] || []).push(fn);
  }

  function announce(text) {
    if (text && typeof M.announce === "function") M.announce(text);
  }

  function region() {
    return document.querySelector("[data-queue]");
  }

  function me() {
    var main = document.querySelector("main[data-me]");
    var value = main && main.getAttribute("data-me");
    return value ? Number(value) : null;
  }

  function t(key, values) {
    var root = region();
    var text = (root && root.getAttribute("data-t-" + key)) || "";
    Object.keys(values || {}).forEach(function (name) {
      text = text.split("{" + name + "}").join(String(values[name]));
    });
    return text;
  }

  function minutes(seconds) {
    var negative = seconds < 0;
    var total = Math.abs(Math.round(seconds));
    var text = Math.floor(total / 60) + ":" + String(total % 60).padStart(2, "0");
    return negative ? "−" + text : text;
  }

  function setHidden(el, hidden) {
    if (el) el.hidden = !!hidden;
  }

  function fill(root, slot, text) {
    root.querySelectorAll('[data-slot="' + slot + '"]').forEach(function (el) {
      el.textContent = text == null ? "" : String(text);
    });
  }

  // --- rendering ----------------------------------------------------------------------------

  function entryNode(root, entry, snapshot) {
    var template = root.querySelector('template[data-queue-template="entry"]');
    var node = template.content.firstElementChild.cloneNode(true);
    node.setAttribute("data-entry", entry.id);
    node.classList.toggle("sq-entry--order", entry.kind === "point_of_order");
    node.classList.toggle("sq-entry--interposition", entry.kind === "interposition");
    fill(node, "name", entry.name);
    var kind = node.querySelector('[data-slot="kind"]');
    if (kind) {
      kind.textContent = entry.kind === "contribution" ? "" : t(entry.kind.replace(/_/g, "-"));
      setHidden(kind, entry.kind === "contribution");
    }
    var sublist = node.querySelector('[data-slot="sublist"]');
    if (sublist) {
      sublist.textContent = entry.sublist_short || "";
      setHidden(sublist, !entry.sublist_short);
    }
    setHidden(node.querySelector('[data-slot="first"]'), !(snapshot.first_time_priority && entry.first_time));
    fill(node, "stats", t("stats", { count: entry.count, time: minutes(entry.seconds_total) }));
    node.querySelectorAll('[data-slot="id"]').forEach(function (input) {
      input.value = entry.id;
    });
    node.querySelectorAll('[data-show="mine"]').forEach(function (el) {
      setHidden(el, entry.member == null || entry.member !== me());
    });
    return node;
  }

  // The lists an entry can stand in, by the attribute that marks them.
  var LISTS = ["data-queue-entries", "data-queue-interpositions"];

  function focusKey() {
    var active = document.activeElement;
    var root = region();
    if (!active || !root || !root.contains(active)) return null;
    var entry = active.closest("[data-entry]");
    var list = entry && entry.parentElement;
    return {
      element: active,
      entry: entry ? entry.getAttribute("data-entry") : null,
      onEntry: active === entry,
      // Where the entry stood: if it leaves the list, focus goes to the one now in its place.
      list: list ? LISTS.filter(function (name) { return list.hasAttribute(name); })[0] || null : null,
      index: list ? Array.prototype.indexOf.call(list.children, entry) : -1,
      value: active.getAttribute("value"),
      name: active.getAttribute("name"),
    };
  }

  // After a re-render, focus goes back where it was: the same button, or, when its entry has
  // left the list (removed, withdrawn, called), the entry now in its place (the last, if it was
  // the last), or the list's heading when the list is empty. Never to <body>.
  function restoreFocus(root, key) {
    if (!key) return;
    // Not re-rendered and still shown (a heading, the chair's buttons): focus stays where it is.
    var still = key.element;
    if (still.isConnected && document.activeElement === still && !still.closest("[hidden]")) return;
    var target = null;
    if (key.entry) {
      var entry = root.querySelector('[data-entry="' + key.entry + '"]');
      if (entry) {
        target = key.onEntry ? entry : entry.querySelector('[name="' + key.name + '"][value="' + key.value + '"]');
      } else if (key.list) {
        var list = root.querySelector("[" + key.list + "]");
        var rest = list ? list.children : [];
        if (rest.length) target = rest[Math.min(Math.max(key.index, 0), rest.length - 1)];
        else if (list && list.getAttribute("aria-labelledby")) {
          target = document.getElementById(list.getAttribute("aria-labelledby"));
        }
      }
    } else if (key.name && key.value) {
      target = root.querySelector('[name="' + key.name + '"][value="' + key.value + '"]:not([hidden])');
    }
    if (!target || target.hidden) target = root.querySelector("h2, h3, [data-queue-entries]");
    if (target && document.activeElement !== target) {
      if (!target.hasAttribute("tabindex") && !/^(BUTTON|A|INPUT)$/.test(target.tagName)) {
        target.setAttribute("tabindex", "-1");
      }
      target.focus();
    }
  }

  // Server clock minus this browser's, in ms: the connection's (hello) once there is one.
  function offset() {
    var clock = M.serverClock;
    return clock && isFinite(clock.offset) ? clock.offset : pageOffset;
  }

  // fresh: the snapshot was read just now (the page, the snapshot URL), so its "now" is the
  // server's time at about this moment; an event's snapshot is not (see the top).
  function render(snapshot, fresh) {
    var root = region();
    if (!root || String(snapshot.item) !== root.getAttribute("data-queue-item")) return;
    var key = focusKey();
    current = snapshot;
    if (fresh && snapshot.now) {
      var at = Date.parse(snapshot.now);
      if (isFinite(at)) pageOffset = at - Date.now();
    }

    var open = root.querySelector("[data-queue-open]");
    if (open) {
      open.textContent = snapshot.open ? t("open") : t("closed");
      open.classList.toggle("badge--group", snapshot.open);
      open.classList.toggle("locked", !snapshot.open);
    }
    var turn = root.querySelector("[data-queue-turn]");
    if (turn) {
      var lane = (snapshot.sublists || []).filter(function (l) {
        return l.key === snapshot.next_sublist;
      })[0];
      turn.textContent = lane ? t("turn", { name: lane.short }) : "";
    }
    [["open", snapshot.open], ["closed", !snapshot.open], ["priority", snapshot.first_time_priority],
      ["no-priority", !snapshot.first_time_priority]].forEach(function (pair) {
      root.querySelectorAll('[data-show="' + pair[0] + '"]').forEach(function (el) {
        setHidden(el, !pair[1]);
      });
    });

    var speaking = snapshot.speaking || [];
    var main = speaking.filter(function (e) { return e.kind !== "interposition"; })[0] || null;
    var now = speaking.length ? speaking[speaking.length - 1] : null;
    var box = root.querySelector("[data-queue-speaker]");
    if (box) {
      setHidden(box, !main);
      fill(box, "speaker-name", main ? main.name : "");
      var badge = box.querySelector('[data-slot="speaker-sublist"]');
      if (badge) {
        badge.textContent = (main && main.sublist_short) || "";
        setHidden(badge, !(main && main.sublist_short));
      }
      fill(box, "speaker-stats", main ? t("stats", { count: main.count, time: minutes(main.seconds_total) }) : "");
      var interrupting = now && now.kind === "interposition" ? now : null;
      setHidden(box.querySelector('[data-slot="interrupt"]'), !interrupting);
      fill(box, "interrupt-name", interrupting ? interrupting.name : "");
      var clock = box.querySelector("[data-countdown]");
      if (clock) {
        clock.setAttribute("data-started", now ? now.started_at || "" : "");
        clock.setAttribute("data-seconds", now ? now.seconds || "" : "");
      }
      setHidden(box.querySelector("[data-queue-yours]"), !(now && now.member != null && now.member === me()));
      box.querySelectorAll('[data-slot="current-id"]').forEach(function (input) {
        input.value = now ? now.id : "";
      });
      var seconds = box.querySelector('input[name="seconds"]');
      if (seconds && document.activeElement !== seconds) seconds.value = now ? now.seconds || "" : "";
    }
    setHidden(root.querySelector("[data-queue-nobody]"), !!main);

    var entries = snapshot.entries || [];
    var list = root.querySelector("[data-queue-entries]");
    var limit = list && Number(list.getAttribute("data-queue-limit") || 0);
    var listed = limit ? entries.slice(0, limit) : entries.filter(function (e) { return e.kind !== "interposition"; });
    if (list) {
      list.replaceChildren.apply(list, listed.map(function (e) { return entryNode(root, e, snapshot); }));
    }
    var asides = root.querySelector("[data-queue-interpositions]");
    if (asides) {
      asides.replaceChildren.apply(asides, entries.filter(function (e) {
        return e.kind === "interposition";
      }).map(function (e) { return entryNode(root, e, snapshot); }));
    }
    setHidden(root.querySelector("[data-queue-empty]"), listed.length > 0);
    restoreFocus(root, key);

    if (now && !said["who:" + now.id]) {
      said["who:" + now.id] = true;
      if (now.member != null && now.member === me()) {
        said["floor:" + now.id] = true;
        announce(t("floor"));
      } else if (!root.closest("[data-projector]")) {
        announce(t("has-floor", { name: now.name }));
      }
    }
    tickSoon();
  }

  // --- the countdown ------------------------------------------------------------------------

  function tick() {
    var root = region();
    var clock = root && root.querySelector("[data-countdown]");
    if (!clock) return;
    var started = clock.getAttribute("data-started");
    var seconds = Number(clock.getAttribute("data-seconds") || 0);
    if (!started || !seconds) return;
    var left = (Date.parse(started) + seconds * 1000 - (Date.now() + offset())) / 1000;
    var shown = left > 0 ? Math.ceil(left) : Math.floor(left);
    clock.textContent = minutes(shown);
    clock.classList.toggle("is-low", left <= 30);
    var speaker = current && current.speaking && current.speaking[current.speaking.length - 1];
    if (speaker && left <= 30 && left > 0 && speaker.member != null && speaker.member === me()) {
      if (!said["low:" + speaker.id]) {
        said["low:" + speaker.id] = true;
        announce(t("low"));
      }
    }
  }

  function tickSoon() {
    tick();
    if (!timer) timer = window.setInterval(tick, 250);
  }

  // --- fetching -----------------------------------------------------------------------------

  function refresh() {
    var root = region();
    var url = root && root.getAttribute("data-queue-snapshot-url");
    if (!url) return Promise.resolve();
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (snapshot) { if (snapshot) render(snapshot, true); })
      .catch(function () {});
  }

  function reloadRegion() {
    var root = region();
    var url = root && root.getAttribute("data-queue-panel-url");
    if (!url) return;
    fetch(url, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.querySelector("[data-queue]");
        var old = region();
        if (!fresh || !old) return;
        var heading = doc.querySelector("[data-projector-item]");
        var mine = document.querySelector("[data-projector-item]");
        if (heading && mine) mine.textContent = heading.textContent;
        old.replaceWith(document.importNode(fresh, true));
        start();
      })
      .catch(function () {});
  }

  function showError(root, text) {
    var box = root && root.querySelector("[data-queue-error]");
    if (!box) return announce(text);
    box.textContent = text;
    box.hidden = false;
    box.focus();
  }

  // One request per action and data at a time: a second press while the first is on its way (a
  // busy evening: seconds) sends nothing more; another entry's button still works. A busy server
  // is asked again by Mitmachen.postForm (site.js), said once where the member is: the focus
  // stays on what they pressed; the same data go again even if a live refresh re-rendered the form.
  var inFlight = {};

  function onSubmit(event) {
    var form = event.target.closest && event.target.closest("form[data-queue-form]");
    if (!form || !window.fetch || !window.FormData || !M.postForm) return;
    event.preventDefault();
    var action = form.getAttribute("action") || window.location.href; // not form.action: buttons named "action" shadow it
    var data = new FormData(form);
    if (event.submitter && event.submitter.name) data.append(event.submitter.name, event.submitter.value);
    var key = keyOf(action, data);
    if (inFlight[key]) return;
    inFlight[key] = true;
    form.setAttribute("aria-busy", "true");
    var box = region() && region().querySelector("[data-queue-error]");
    if (box) box.hidden = true;
    M.postForm(action, data, { onBusy: announce })
      .then(function (answer) {
        settle(key);
        var body = answer.body || { ok: false, message: t("failed") };
        if (body.ok) {
          announce(body.message);
          return refresh();
        }
        showError(region(), body.message || t("failed"));
      })
      .catch(function () {
        settle(key);
        showError(region(), t("failed"));
      });
  }

  function keyOf(action, data) {
    var parts = [action];
    data.forEach(function (value, name) {
      if (name !== "csrfmiddlewaretoken") parts.push(name + "=" + value);
    });
    return parts.join("\n");
  }

  function settle(key) {
    delete inFlight[key];
    if (Object.keys(inFlight).length) return;
    document.querySelectorAll("form[data-queue-form][aria-busy]").forEach(function (form) {
      form.removeAttribute("aria-busy");
    });
  }

  // --- start --------------------------------------------------------------------------------

  function start() {
    var root = region();
    if (!root) return;
    var data = document.getElementById("queue-snapshot");
    if (data && root.contains(data)) {
      try {
        var snapshot = JSON.parse(data.textContent);
        // What the page already shows is not news: the one speaking is not announced again.
        (snapshot.speaking || []).forEach(function (e) {
          said["who:" + e.id] = true;
          said["floor:" + e.id] = true;
        });
        render(snapshot, true);
      } catch (error) { /* the server-rendered list stays */ }
    }
  }

  on("queue.changed", function (event) {
    if (event && event.queue) render(event.queue, false);
  });
  on("agenda.current", function () { reloadRegion(); });

  document.addEventListener("submit", onSubmit);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();

  M.queue = { render: render, refresh: refresh };
})();
