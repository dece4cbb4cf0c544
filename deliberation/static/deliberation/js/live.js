/*
 * Mitmachen.live: the browser's half of the live stream protocol (docs/PROTOCOL.md), one copy for
 * every stream kind (the thread page's thread.js, the conference page's conference.js).
 *
 *   var stream = Mitmachen.live.open({
 *     path: "/ws/conferences/7/",  // the stream's socket path
 *     after: 12,                   // the last seq the page shows (data-after / data-last-seq)
 *     onEvent: function (event) {},   // each seq'd event, once, in order (after de-dup and gaps)
 *     onHello: function (hello) {},   // a socket is up (hello received; replay follows)
 *     onFrame: function (frame) {},   // other frames: ack, error, presence, unsequenced events
 *     onReset: function (frame) {},   // too far behind to replay: the page should reload
 *     onStatus: function (state) {},  // "connecting", "online", "offline", "refused"
 *     onDrop: function () {},         // the socket is gone (a reconnect follows unless refused)
 *     onSeq: function (seq) {}        // the last seq changed (applied, synced or reset)
 *   });
 *   stream.send(frame) -> bool; stream.connected(); stream.everConnected(); stream.seq()
 *
 * What it does so that no page has to: connects with ?after=<seq>; reconnects with exponential
 * backoff and jitter, and after a 4503 shed waits the server's retry_after hint (plus up to as
 * much again); stops for good on 4403/4404; sends a heartbeat ping and gives up on a socket
 * whose pong does not come; compares each pong's head with the last applied seq and asks for a
 * resync when an event went missing; drops events already applied (seq <= last); on a gap asks
 * for a replay, and during a replay holds events beyond the gap until they are next in line or
 * "synced" says they may be applied. Reconnects when the browser comes back online or the tab
 * becomes visible; stops when the page is left, starts again when it is shown from the cache.
 *
 * Mitmachen.live.status(root, node, texts) is the status line beside it: see there.
 */
(function () {
  "use strict";

  var Mitmachen = (window.Mitmachen = window.Mitmachen || {});
  if (Mitmachen.live) { return; }

  var PONG_TIMEOUT_MS = 10000;
  var HEAD_GRACE_MS = 2000;
  var BACKOFF_FIRST_MS = 1000;
  var BACKOFF_CAP_MS = 30000;

  function noop() {}

  function open(options) {
    var path = options.path;
    var lastSeq = Number(options.after) || 0;
    var onEvent = options.onEvent || noop;
    var onHello = options.onHello || noop;
    var onFrame = options.onFrame || noop;
    var onReset = options.onReset || noop;
    var onStatus = options.onStatus || noop;
    var onDrop = options.onDrop || noop;
    var onSeq = options.onSeq || noop;

    var heartbeatMs = 25000; // the server's hello says how often (hello.heartbeat, seconds)
    var socket = null;
    var connected = false; // hello received on the current socket
    var everConnected = false;
    var stopped = false; // the server refused us for good (4403, 4404), or the page was left
    var attempt = 0;
    var reconnectTimer = null;
    var heartbeatTimer = null;
    var pongTimer = null;
    var syncing = false; // between hello/resync and synced: seqs may skip (filtered events)
    var held = new Map(); // seq -> frame: events beyond a gap during a replay, until synced
    var busyRetryAfter = null; // seconds, from a "busy" frame before a 4503 close
    var resyncPending = false;

    function status(state) { onStatus(state); }
    function offlineOr(state) { return navigator.onLine === false ? "offline" : state; }

    function socketUrl() {
      var scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
      return scheme + "//" + window.location.host + path + "?after=" + lastSeq;
    }

    function connect() {
      if (stopped || socket) { return; }
      window.clearTimeout(reconnectTimer);
      reconnectTimer = null;
      status(offlineOr("connecting"));
      var ws;
      try {
        ws = new WebSocket(socketUrl());
      } catch (_err) {
        scheduleReconnect();
        return;
      }
      socket = ws;
      ws.onmessage = function (message) {
        if (ws !== socket) { return; }
        var frame;
        try {
          frame = JSON.parse(message.data);
        } catch (_err) {
          return;
        }
        if (frame && typeof frame.type === "string") {
          handle(frame);
        }
      };
      ws.onclose = function (event) {
        if (ws !== socket) { return; }
        dropSocket();
        if (event.code === 4403 || event.code === 4404) {
          stopped = true;
          status("refused");
          return;
        }
        scheduleReconnect(retryHint(event));
      };
    }

    function dropSocket() {
      var ws = socket;
      socket = null;
      connected = false;
      syncing = false;
      held = new Map(); // the reconnect's replay starts again from lastSeq
      resyncPending = false;
      window.clearInterval(heartbeatTimer);
      window.clearTimeout(pongTimer);
      heartbeatTimer = null;
      pongTimer = null;
      if (ws) {
        ws.onmessage = null;
        ws.onclose = null;
        try { ws.close(); } catch (_err) { /* already closed */ }
      }
      onDrop();
    }

    // A server under a connect burst sends {"type": "busy", "retry_after": seconds} and closes
    // with 4503: wait that long, plus up to as much again, so that the clients it shed do not
    // all return at the same moment.
    function retryHint(event) {
      if (event.code !== 4503) { return null; }
      var seconds = busyRetryAfter || 1;
      busyRetryAfter = null;
      return Math.min(seconds, 60) * 1000 * (1 + Math.random());
    }

    function scheduleReconnect(hintMs) {
      if (stopped || reconnectTimer) { return; }
      var base = Math.min(BACKOFF_CAP_MS, BACKOFF_FIRST_MS * Math.pow(2, attempt));
      attempt += 1;
      var delay = base / 2 + Math.random() * base / 2; // jitter: many phones must not return at once
      if (typeof hintMs === "number") { delay = Math.max(delay, hintMs); }
      status(offlineOr("connecting"));
      reconnectTimer = window.setTimeout(function () {
        reconnectTimer = null;
        connect();
      }, delay);
    }

    function reconnectNow() {
      if (stopped) { return; }
      window.clearTimeout(reconnectTimer);
      reconnectTimer = null;
      if (!socket) { connect(); }
    }

    function send(frame) {
      if (!socket || !connected) { return false; }
      try {
        socket.send(JSON.stringify(frame));
        return true;
      } catch (_err) {
        return false;
      }
    }

    function startHeartbeat(seconds) {
      if (typeof seconds === "number" && seconds > 0) { heartbeatMs = seconds * 1000; }
      window.clearInterval(heartbeatTimer);
      heartbeatTimer = window.setInterval(function () {
        if (!send({ type: "ping" })) { return; }
        window.clearTimeout(pongTimer);
        pongTimer = window.setTimeout(function () {
          // Browsers do not always notice a dead connection: give up on it ourselves.
          dropSocket();
          scheduleReconnect();
        }, PONG_TIMEOUT_MS);
      }, heartbeatMs);
    }

    // --- frames from the server ------------------------------------------------------------------
    function handle(frame) {
      switch (frame.type) {
        case "hello": return hello(frame);
        case "synced": return synced(frame);
        case "reset": return reset(frame);
        case "pong": return pong(frame);
        case "busy":
          busyRetryAfter = typeof frame.retry_after === "number" && frame.retry_after > 0
            ? frame.retry_after : null;
          return undefined;
        case "ack":
        case "error":
        case "presence": return onFrame(frame);
        default:
          // A stream event with a seq; one without (a high-rate counter) is the page's to take.
          if (typeof frame.seq === "number") { return sequenced(frame); }
          return onFrame(frame);
      }
    }

    function hello(frame) {
      connected = true;
      everConnected = true;
      attempt = 0;
      syncing = true;
      status("online");
      startHeartbeat(frame.heartbeat);
      onHello(frame);
    }

    // Every pong carries the stream's head: an event lost on the way is noticed within one
    // heartbeat, even when nothing follows it. The event may also just be on its way (it was
    // committed a moment ago): give it HEAD_GRACE_MS before asking for a replay.
    function pong(frame) {
      window.clearTimeout(pongTimer);
      var head = frame.seq;
      if (syncing || typeof head !== "number" || head <= lastSeq) { return; }
      var ws = socket;
      window.setTimeout(function () {
        if (socket === ws && connected && !syncing && head > lastSeq) { requestResync(); }
      }, HEAD_GRACE_MS);
    }

    function synced(frame) {
      syncing = false;
      resyncPending = false;
      // What arrived beyond a gap during the replay: the replay skipped numbers the reader may
      // not see, so apply the rest now, in order (docs/PROTOCOL.md, "Sequence numbers").
      var seqs = Array.from(held.keys()).sort(function (a, b) { return a - b; });
      var frames = held;
      held = new Map();
      seqs.forEach(function (seq) { if (seq > lastSeq) { apply(frames.get(seq)); } });
      if (typeof frame.seq === "number" && frame.seq > lastSeq) { setSeq(frame.seq); }
    }

    function reset(frame) {
      syncing = false;
      resyncPending = false;
      held = new Map();
      if (typeof frame.seq === "number") { setSeq(frame.seq); }
      onReset(frame);
    }

    function requestResync() {
      if (resyncPending) { return; }
      resyncPending = true;
      syncing = true;
      send({ type: "resync", after: lastSeq });
    }

    function sequenced(frame) {
      if (frame.seq <= lastSeq) { return; } // seen already (a replay overlapping the live frames)
      if (!syncing && frame.seq > lastSeq + 1) {
        requestResync(); // a gap: the layer dropped something; the database has it
        return;
      }
      if (syncing && frame.seq > lastSeq + 1) {
        // During a replay: a live frame that was on its way before the server took our
        // resync, or a replayed one after a number the reader may not see. Hold it: the
        // replay fills in before it, or synced says it may be applied.
        held.set(frame.seq, frame);
        return;
      }
      apply(frame);
      // Anything held that is next in line now.
      while (held.has(lastSeq + 1)) {
        var next = held.get(lastSeq + 1);
        held.delete(lastSeq + 1);
        apply(next);
      }
    }

    function setSeq(seq) {
      lastSeq = seq;
      onSeq(seq);
    }

    function apply(frame) {
      setSeq(frame.seq);
      onEvent(frame);
    }

    // --- the page's life -------------------------------------------------------------------------
    window.addEventListener("online", reconnectNow);
    window.addEventListener("offline", function () { status("offline"); });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") { reconnectNow(); }
    });
    window.addEventListener("pagehide", function () {
      stopped = true; // leaving: no reconnect from a page in the back/forward cache
      dropSocket();
    });
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) {
        stopped = false;
        connect();
      }
    });

    connect();
    return {
      send: send,
      connected: function () { return connected; },
      everConnected: function () { return everConnected; },
      seq: function () { return lastSeq; },
      reconnectNow: reconnectNow
    };
  }

  /*
   * The connection's status line: Mitmachen.live.status(root, node, texts) returns
   * setState(state, everConnected). It sets root's data-live to the state, shows in ``node``
   * the text for it (hidden when there is none) and announces each change once through the
   * page's live region: texts.reconnecting (connecting after a first success; the first connect
   * is not news), texts.offline, texts.refused, texts.online (optional: a quiet "live" line),
   * texts.back (announced when the connection returns).
   */
  function status(root, node, texts) {
    var announced = "online"; // the state last announced (once per change)
    return function setState(state, everConnected) {
      root.dataset.live = state;
      var text = "";
      if (state === "connecting" && everConnected) {
        text = texts.reconnecting;
      } else if (state === "offline") {
        text = texts.offline;
      } else if (state === "refused") {
        text = texts.refused;
      }
      var shown = text || (state === "online" ? texts.online || "" : "");
      node.textContent = shown;
      node.hidden = !shown;
      var kind = text ? state : "online";
      if (kind !== announced) {
        if (text) {
          Mitmachen.announce(text);
        } else if (state === "online" && everConnected && texts.back) {
          Mitmachen.announce(texts.back);
        }
        announced = kind;
      }
    };
  }

  Mitmachen.live = { open: open, status: status };
})();
