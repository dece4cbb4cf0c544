/*
 * The live conference page: progressive enhancement of the conference's pages (the page, the
 * projector view). Without it the pages work: everything is read on reload, every action is a
 * plain form.
 *
 * Markup contract (docs/PROTOCOL.md, "The conference stream"): the page's <main> carries
 * data-conference="<pk>" data-after="<conference.last_seq>" data-me="<member pk or empty>"
 * data-chair="true|false". Load deliberation/js/live.js before this file. This script opens /ws/conferences/<pk>/ with the shared client
 * (Mitmachen.live, deliberation/static/deliberation/js/live.js, loaded before this script) and
 * hands every applied event, once and in order, to each function in
 * Mitmachen.conferenceHandlers[event.type]; unsequenced frames (high-rate counters) go the same
 * way. Feature scripts (queue.js, polls.js) register there, in any order:
 *
 *   Mitmachen.conferenceHandlers = Mitmachen.conferenceHandlers || {};
 *   (Mitmachen.conferenceHandlers["queue.changed"] =
 *     Mitmachen.conferenceHandlers["queue.changed"] || []).push(function (event) { ... });
 *
 * Its own handlers: agenda.current re-renders [data-region="current-item"] as the page renders it
 * (templates/conferences/conference.html: the heading kept; the title, start time and thread link,
 * or the note that no item is discussed) and announces "Jetzt: TOP 2 – Mieten" once;
 * conference.phase updates every .phase-badge and announces the phase. The connection's state is a status line
 * ("Live", "Connection lost. Reconnecting…") in #live-connection-area if the page has one, else
 * at the top of <main>. Mitmachen.conferenceStream is the socket's handle (send, connected).
 * Mitmachen.serverClock.offset is the server's clock minus this browser's in ms, from the
 * hello's "now" (once per connection): feature scripts keep time with Date.now() + offset.
 *
 * Mitmachen.conference.send(frame) -> Promise sends one of the conference's own frames
 * (poll.vote) with a fresh "id" and resolves with the server's ack or error frame for it; it
 * rejects at once when the stream is not open (the caller then uses the form), and after
 * 10 seconds without an answer or when the socket drops before the answer.
 */
(function () {
  "use strict";

  var Mitmachen = (window.Mitmachen = window.Mitmachen || {});
  var handlers = (Mitmachen.conferenceHandlers = Mitmachen.conferenceHandlers || {});
  var root = document.querySelector("main[data-conference]");
  if (!root || !("WebSocket" in window) || !window.JSON || !Mitmachen.live) {
    return;
  }
  var conferenceId = Number(root.dataset.conference);
  if (!conferenceId) { return; }

  var gettext = window.gettext || function (s) { return s; };
  function format(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_m, key) {
      return key in values ? String(values[key]) : "";
    });
  }

  function on(type, handler) {
    (handlers[type] = handlers[type] || []).push(handler);
  }

  function dispatch(event) {
    (handlers[event.type] || []).slice().forEach(function (handler) {
      try {
        handler(event);
      } catch (err) {
        // One region's bug must not stop the others, nor the stream.
        if (window.console) { window.console.error(err); }
      }
    });
  }

  // --- the status line ---------------------------------------------------------------------------
  var statusNote = document.createElement("p");
  statusNote.id = "live-connection";
  statusNote.className = "live-connection meta";
  statusNote.hidden = true;
  var area = document.getElementById("live-connection-area");
  if (area) {
    area.appendChild(statusNote);
  } else {
    root.insertBefore(statusNote, root.firstChild);
  }
  var showStatus = Mitmachen.live.status(root, statusNote, {
    online: gettext("Live"),
    reconnecting: gettext("Connection lost. Reconnecting…"),
    offline: gettext("You are offline. The page will follow the conference again when the connection is back."),
    refused: gettext("Live updates have stopped: you no longer have access to this conference. Please reload the page."),
    back: gettext("Connected again.")
  });

  function onReset() {
    if (document.getElementById("live-reset")) { return; }
    var note = document.createElement("p");
    note.id = "live-reset";
    note.className = "notice live-reset";
    note.appendChild(document.createTextNode(
      gettext("Much happened while you were away. Reload the page to see the current state.") + " "));
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button button--secondary";
    button.textContent = gettext("Reload");
    button.addEventListener("click", function () { window.location.reload(); });
    note.appendChild(button);
    statusNote.parentNode.insertBefore(note, statusNote.nextSibling);
    Mitmachen.announce(note.firstChild.textContent);
  }

  // --- the conference's own regions --------------------------------------------------------------
  // They mirror templates/conferences/conference.html, so that a live change and a reload show
  // the same markup: the current item's region keeps its heading and gets the title, the time it
  // began and the link to its thread, or the note that no item is being discussed.
  var phase = null; // from hello, then from conference.phase
  var pageLang = document.documentElement.lang || undefined;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function announcement(item) {
    if (!item) { return gettext("Between agenda items"); }
    return format(gettext("Now: item %(position)s – %(title)s"),
      { position: item.position, title: item.title });
  }

  function clockTime(iso) {
    var date = new Date(iso);
    if (isNaN(date.getTime())) { return ""; }
    try {
      return date.toLocaleTimeString(pageLang,
        { hour: "2-digit", minute: "2-digit", timeZone: "Europe/Berlin" });
    } catch (_err) {
      return date.toLocaleTimeString();
    }
  }

  function noItemText() {
    if (phase === "preparation") { return gettext("The live day has not begun yet."); }
    if (phase === "follow_up" || phase === "archived") { return gettext("The live day is over."); }
    return gettext("No item is being discussed at the moment.");
  }

  function renderCurrent(region, item) {
    region.dataset.item = item ? String(item.id) : "";
    Array.prototype.slice.call(region.children).forEach(function (child) {
      if (!/^H[1-6]$/.test(child.tagName)) { child.remove(); }
    });
    if (!item) {
      region.appendChild(el("p", { "class": "conf-current__none", "data-current-none": "" },
        noItemText()));
      return;
    }
    region.appendChild(el("p", { "class": "conf-current__title", "data-current-title": "" },
      format(gettext("Item %(position)s: %(title)s"), { position: item.position, title: item.title })));
    var meta = el("p", { "class": "conf-current__meta", "data-current-meta": "" });
    if (item.started_at) {
      meta.textContent = format(gettext("Since %(time)s, planned %(minutes)s min"),
        { time: clockTime(item.started_at), minutes: item.planned_minutes });
    }
    region.appendChild(meta);
    if (item.thread) {
      var link = el("a", { "data-current-link": "", href: "/foren/thema/" + item.thread + "/" },
        gettext("Join the discussion on this item"));
      var line = el("p");
      line.appendChild(link);
      region.appendChild(line);
    }
  }

  on("agenda.current", function (event) {
    var item = event.item || null;
    Array.prototype.forEach.call(document.querySelectorAll("[data-region='current-item']"),
      function (region) { renderCurrent(region, item); });
    Mitmachen.announce(announcement(item));
  });

  var PHASES = {
    preparation: gettext("Preparation"),
    live: gettext("Live day"),
    follow_up: gettext("Follow-up"),
    archived: gettext("Archived")
  };
  on("conference.phase", function (event) {
    phase = String(event.phase || "");
    var label = PHASES[phase] || phase;
    Array.prototype.forEach.call(document.querySelectorAll(".phase-badge"), function (badge) {
      badge.className = "badge phase-badge phase-badge--" + phase + (phase === "live" ? " badge--live" : "");
      badge.textContent = label;
    });
    Mitmachen.announce(format(gettext("The conference is now in the phase: %(phase)s"),
      { phase: label }));
  });

  // --- frames of our own, answered by ref ---------------------------------------------------------
  var pending = {};
  var nextRef = 1;
  function dropPending() {
    Object.keys(pending).forEach(function (ref) {
      var waiting = pending[ref];
      delete pending[ref];
      window.clearTimeout(waiting.timer);
      waiting.reject(new Error("disconnected"));
    });
  }
  function sendFrame(frame) {
    return new Promise(function (resolve, reject) {
      var ref = "c" + nextRef++;
      var out = {};
      Object.keys(frame).forEach(function (key) { out[key] = frame[key]; });
      out.id = ref;
      if (!stream || !stream.send(out)) { reject(new Error("not connected")); return; }
      pending[ref] = {
        resolve: resolve,
        reject: reject,
        timer: window.setTimeout(function () {
          if (pending[ref]) { delete pending[ref]; reject(new Error("timeout")); }
        }, 10000)
      };
    });
  }
  Mitmachen.conference = { send: sendFrame };

  // --- the stream --------------------------------------------------------------------------------
  var stream = Mitmachen.live.open({
    path: "/ws/conferences/" + conferenceId + "/",
    after: Number(root.dataset.after) || 0,
    onEvent: dispatch,
    onHello: function (hello) {
      phase = hello.phase || phase;
      // The server's clock against this browser's, once per connection: countdowns (queue.js)
      // run from a start time the server gave, never from when an event happened to arrive.
      var at = Date.parse(hello.now);
      if (isFinite(at)) { Mitmachen.serverClock = { offset: at - Date.now() }; }
    },
    onFrame: function (frame) {
      if ((frame.type === "ack" || frame.type === "error") && frame.ref in pending) {
        var waiting = pending[frame.ref];
        delete pending[frame.ref];
        window.clearTimeout(waiting.timer);
        waiting.resolve(frame);
        return;
      }
      // Unsequenced events (turnout counters) go to the handlers; errors and presence do not.
      if (frame.type.indexOf(".") > 0) { dispatch(frame); }
    },
    onReset: onReset,
    onStatus: function (state) {
      if (state !== "online") { dropPending(); }
      showStatus(state, !!stream && stream.everConnected());
    },
    onSeq: function (seq) { root.dataset.after = String(seq); }
  });
  Mitmachen.conferenceStream = stream;
})();
