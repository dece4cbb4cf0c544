/*
 * The live thread: progressive enhancement of the thread page (templates/forums/thread.html).
 *
 * Without this script the page works: posts are read and written through plain forms. With it,
 * the page connects to /ws/threads/<id>/ (protocol: docs/PROTOCOL.md), shows new posts as they
 * come, and sends replies over the socket: shown at once as "sending", retried with the same
 * client_id after a reconnect until the server acknowledges them, so nothing typed is lost.
 * The socket itself (reconnects, heartbeat, replay, de-dup by seq) is the shared client,
 * Mitmachen.live (deliberation/static/deliberation/js/live.js, loaded before this script).
 *
 * Markup contract: templates/forums/_post.html (one post) and its <template id="post-template">
 * copy, which this script clones and fills (fillPost) so that a live post is the same HTML as
 * the server's after a reload (tests/e2e/test_thread_keyboard.py compares them). Post HTML is
 * the server's sanitised body_html; everything else is inserted as text. Translations come from
 * Django's JavaScript catalog (/jsi18n/), with the same msgids as the template.
 *
 * Screen readers hear changes through the page's one polite region (#live-announcer, via
 * window.Mitmachen.announce): new posts batched and counted, a reply sent or refused (with the
 * reason), an agreement saved or withdrawn, the connection lost and back, each once.
 */
(function () {
  "use strict";

  var root = document.getElementById("thread");
  if (!root || !("WebSocket" in window) || !window.JSON || !window.Mitmachen
      || !window.Mitmachen.live) {
    return;
  }

  // --- translations ------------------------------------------------------------------------------
  var gettext = window.gettext || function (s) { return s; };
  var ngettext = window.ngettext || function (one, many, n) { return n === 1 ? one : many; };
  function format(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_m, key) {
      return key in values ? String(values[key]) : "";
    });
  }

  // --- settings ----------------------------------------------------------------------------------
  var ANNOUNCE_EVERY_MS = 5000;
  var ANNOUNCE_BATCH_MS = 1500;
  var AT_BOTTOM_PX = 80;

  var threadId = Number(root.dataset.threadId);
  var wsPath = root.dataset.wsPath || "/ws/threads/" + threadId + "/";
  var onLastPage = root.dataset.lastPage !== "false";
  var postsList = document.getElementById("posts");
  var template = document.getElementById("post-template");
  var liveArea = document.getElementById("live-connection-area");
  var pageLang = document.documentElement.lang || "";
  var pageNumber = Number(root.dataset.page) || 1;
  var form = document.getElementById("reply-form");
  var textarea = form ? form.querySelector("textarea[name=body]") : null;
  var clientIdInput = form ? form.querySelector("input[name=client_id]") : null;
  var replyToInput = form ? form.querySelector("input[name=reply_to]") : null;
  var replyNote = document.getElementById("reply-to-note");
  var storageKey = "mitmachen.pending." + threadId;

  var stream = null; // Mitmachen.live's handle, once started
  var me = null; // {id, display_name} from hello
  var canModerate = false;
  var pending = new Map(); // client_id -> {body, replyTo, li, acked, postId}
  var unseen = []; // posts inserted while the reader was not at the bottom
  var announceQueue = 0;
  var announceTimer = null;
  var lastAnnounce = 0;
  var refId = 0;

  // --- small DOM helpers -------------------------------------------------------------------------
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }
  function q(node, selector) { return node ? node.querySelector(selector) : null; }
  function show(node, visible) { if (node) { node.hidden = !visible; } }
  function setText(node, text) { if (node) { node.textContent = text; } }

  /* The agreement total of a post: one whole, counted sentence ("1 agreement", "3 agreements"). */
  function setAgreeCount(li, count) {
    var total = q(li, ".post-agree-total");
    if (!total) { return; }
    var n = Number(count) || 0;
    total.dataset.count = String(n);
    total.textContent = format(ngettext("%(counter)s agreement", "%(counter)s agreements", n),
      { counter: n });
  }

  // --- the page's live region ---------------------------------------------------------------------
  // The page shell (deliberation/static/deliberation/js/site.js, loaded first by base.html)
  // provides the one polite region, #live-announcer, and Mitmachen.announce(text): batched, never
  // repeated.
  function announce(text) { window.Mitmachen.announce(text); }

  // Connection state: a quiet line, shown only when something is wrong; announced once per change.
  var connectionNote = el("p", { id: "live-connection", "class": "live-connection" });
  connectionNote.hidden = true;
  var onlineNote = el("p", { id: "live-online", "class": "live-online meta" });
  var newPostsButton = el("button", { type: "button", id: "live-new-posts",
    "class": "button button--secondary live-new-posts" });
  newPostsButton.hidden = true;
  var formError = el("p", { id: "reply-live-error", "class": "error live-error" });
  formError.hidden = true;
  if (liveArea) {
    liveArea.appendChild(connectionNote);
    liveArea.appendChild(onlineNote);
  } else {
    root.insertBefore(connectionNote, postsList);
  }
  if (postsList) {
    postsList.parentNode.insertBefore(newPostsButton, postsList.nextSibling);
  }
  if (form && textarea) {
    var submit = q(form, "button[type=submit]");
    form.insertBefore(formError, submit || null);
  }

  var showConnection = window.Mitmachen.live.status(root, connectionNote, {
    reconnecting: gettext("Connection lost. Reconnecting…"),
    offline: gettext("You are offline. New posts will appear when the connection is back."),
    refused: gettext("Live updates have stopped: you no longer have access to this thread. Please reload the page."),
    back: gettext("Connected again.")
  });
  function setConnection(state) { showConnection(state, everConnected()); }
  function connected() { return !!stream && stream.connected(); }
  function everConnected() { return !!stream && stream.everConnected(); }
  function send(frame) { return !!stream && stream.send(frame); }

  // --- frames from the server --------------------------------------------------------------------
  function onFrame(frame) {
    switch (frame.type) {
      case "ack": return onAck(frame);
      case "error": return onError(frame);
      case "presence": return setOnline(frame.count, frame.names);
      default: return undefined;
    }
  }

  function onHello(frame) {
    me = frame.member || null;
    canModerate = !!frame.can_moderate;
    setOnline(frame.online);
    if (frame.locked) { applyLocked(true); }
    pending.forEach(function (item, clientId) {
      if (!item.acked) { sendPending(clientId, item); }
    });
  }

  function onReset() {
    var note = document.getElementById("live-reset");
    if (!note) {
      note = el("p", { id: "live-reset", "class": "notice live-reset" });
      note.appendChild(document.createTextNode(
        gettext("Many posts arrived while you were away. Reload the page to see all of them.") + " "));
      var button = el("button", { type: "button" }, gettext("Reload"));
      button.addEventListener("click", function () { window.location.reload(); });
      note.appendChild(button);
      connectionNote.parentNode.insertBefore(note, connectionNote.nextSibling);
      announce(note.firstChild.textContent);
    }
  }

  function setSeq(seq) {
    root.dataset.lastSeq = String(seq);
  }

  function applyEvent(frame) {
    switch (frame.type) {
      case "post.created": return onPostCreated(frame.post);
      case "post.hidden": return updatePost(frame.post, frame.moderation);
      case "post.edited":
      case "post.restored":
      case "post.deleted": return updatePost(frame.post);
      case "reaction.changed": return updateReactions(frame.post);
      case "thread.locked": return applyLocked(!!frame.locked);
      default: return undefined;
    }
  }

  // --- posts -------------------------------------------------------------------------------------
  function postUrl(id, action) {
    return "/foren/beitrag/" + id + "/" + (action ? action + "/" : "");
  }

  /* Reason categories in the reader's language, rendered into the page by the server
     (templates/moderation/_reason_labels.html); live frames carry only the code. */
  var reasonLabels = (function () {
    var node = document.getElementById("moderation-reasons");
    if (!node) { return {}; }
    try { return JSON.parse(node.textContent) || {}; } catch (_err) { return {}; }
  }());

  /* Badge labels ("Initiative", "Fraktion") in the reader's language, by affiliation code
     (#badge-labels, from the server): an event's `badge` is in its sender's language. */
  var badgeLabels = (function () {
    var node = document.getElementById("badge-labels");
    if (!node) { return {}; }
    try { return JSON.parse(node.textContent) || {}; } catch (_err) { return {}; }
  }());

  /* The post template's fixed texts, the server's post_labels (#post-labels): what this script
     writes into a part it shows ("(edited)", the deleted note, "In reply to", "Edit", "Delete")
     is then the server's text for it, byte for byte. */
  var postLabels = (function () {
    var node = document.getElementById("post-labels");
    if (!node) { return {}; }
    try { return JSON.parse(node.textContent) || {}; } catch (_err) { return {}; }
  }());

  /* A part that depends on the post: shown with its content, or hidden and EMPTY, as the server
     renders it (templates/forums/_post.html), so a hidden part costs the page no bytes. */
  function showFilled(node, visible, text) {
    if (!node) { return; }
    node.hidden = !visible;
    node.textContent = visible ? text : "";
  }
  function showLink(node, visible, href, text) {
    if (!node) { return; }
    showFilled(node, visible, text);
    if (visible) { node.setAttribute("href", href); } else { node.removeAttribute("href"); }
  }

  /* The "In reply to" line's parts, built when it is shown (the server leaves it empty while
     hidden): text, link > author, ":", quote. A line that says the post answered is not shown
     (server-rendered only) is kept as it is: null. */
  function replyLine(node) {
    var link = q(node, ".post-reply-to-link");
    if (!link && !node.firstChild) {
      node.appendChild(document.createTextNode((postLabels.in_reply_to || "") + " "));
      link = el("a", { "class": "post-reply-to-link" });
      link.appendChild(el("span", { "class": "post-reply-to-author" }));
      node.appendChild(link);
      node.appendChild(document.createTextNode(": "));
      node.appendChild(el("q", { "class": "post-reply-to-excerpt" }));
    }
    return link;
  }

  /* The same texts as templates/forums/_post.html writes for a post in this state. */
  function stateNote(state) {
    if (state === "held") {
      return gettext("Waiting for a moderator: only its author and the moderators can see this post.");
    }
    if (state === "hidden") {
      return gettext("Hidden by the moderators: only its author and the moderators can see this post.");
    }
    if (state === "rejected") {
      return gettext("Rejected by the moderators: only its author and the moderators can see this post.");
    }
    return "";
  }

  /* templates/moderation/_post_note.html: why a hidden or rejected post is not shown. */
  function moderationNote(li, post) {
    var note = q(li, ".post-moderation-note");
    if (post.state !== "hidden" && post.state !== "rejected") {
      if (note) { note.remove(); }
      return;
    }
    if (!note) {
      note = el("p", { "class": "post-moderation-note" });
      var after = q(li, ".post-state-note");
      li.insertBefore(note, after ? after.nextSibling : q(li, ".post-body"));
    }
    var text = post.state === "hidden" ? gettext("Hidden by moderation") : gettext("Rejected by moderation");
    var label = post.moderation_reason && reasonLabels[post.moderation_reason];
    note.textContent = label ? text + " – " + label : text;
  }

  /* A post's time as the server writes it (forums/timeformat.py): the page gives the format
     (Django's date characters d j m n M Y H G i), the site's time zone and the month names. */
  var timeFormat = root.dataset.timeFormat || "d.m.Y, H:i";
  var timeZone = root.dataset.timeZone || undefined;
  var monthNames = (root.dataset.months || "").split(",");
  var timeParts = null;
  try {
    timeParts = new Intl.DateTimeFormat("en-US", {
      timeZone: timeZone, year: "numeric", month: "numeric", day: "numeric",
      hour: "numeric", minute: "numeric", hourCycle: "h23", numberingSystem: "latn",
    });
  } catch (_err) {
    timeParts = null;
  }
  function two(n) { return (n < 10 ? "0" : "") + n; }
  function formatTime(iso) {
    var date = new Date(iso);
    if (isNaN(date.getTime())) { return ""; }
    var p = { year: date.getFullYear(), month: date.getMonth() + 1, day: date.getDate(),
      hour: date.getHours(), minute: date.getMinutes() };
    if (timeParts) {
      timeParts.formatToParts(date).forEach(function (part) {
        if (part.type in p) { p[part.type] = Number(part.value) % (part.type === "hour" ? 24 : 1e9); }
      });
    }
    var out = "";
    for (var i = 0; i < timeFormat.length; i += 1) {
      var c = timeFormat.charAt(i);
      if (c === "\\") { i += 1; out += timeFormat.charAt(i); continue; }
      switch (c) {
        case "d": out += two(p.day); break;
        case "j": out += p.day; break;
        case "m": out += two(p.month); break;
        case "n": out += p.month; break;
        case "M": out += monthNames[p.month - 1] || p.month; break;
        case "Y": out += p.year; break;
        case "H": out += two(p.hour); break;
        case "G": out += p.hour; break;
        case "i": out += two(p.minute); break;
        default: out += c;
      }
    }
    return out;
  }

  function newPostElement() {
    if (template && template.content && template.content.firstElementChild) {
      return template.content.firstElementChild.cloneNode(true);
    }
    var li = el("li", { "class": "post" });
    li.appendChild(el("div", { "class": "post-body" }));
    return li;
  }

  function setLang(node, language) {
    if (!node) { return; }
    if (language && language !== pageLang) {
      node.setAttribute("lang", language);
    } else {
      node.removeAttribute("lang");
    }
  }

  /* Fill a post element from a post payload (forums/events.py post_payload), following the rules
     of templates/forums/_post.html: parts that depend on the post are switched with `hidden`;
     parts that depend on the reader's role are in the <template> copy only when they apply. */
  function fillPost(li, post) {
    var mine = !!(me && post.author && post.author.id === me.id);
    var state = post.state || "published";
    var published = state === "published";
    // Whether this reader gets the text: the server sends it only to those who may read it.
    var sees = published || mine || canModerate || !!post.body_html;
    var name = post.author ? post.author.display_name : gettext("Deleted account");
    li.id = "post-" + post.id;
    li.dataset.postId = String(post.id);
    li.dataset.seq = String(post.seq || "");
    li.dataset.state = state;
    li.className = "post state-" + state + (post.deleted ? " is-deleted" : "");
    li.removeAttribute("aria-busy");
    setText(q(li, ".post-author"), name);
    var badge = q(li, ".post-badge");
    var affiliation = post.author && post.author.affiliation;
    var ownWords = post.author && post.author.badge_label;
    setText(badge, ownWords || (affiliation ? badgeLabels[affiliation] || post.author.badge || "" : ""));
    show(badge, !!(badge && badge.textContent));
    var permalink = q(li, ".post-permalink");
    if (permalink) { permalink.setAttribute("href", "#post-" + post.id); }
    var time = q(li, ".post-time");
    if (time && post.created_at) {
      time.setAttribute("datetime", post.created_at);
      time.textContent = formatTime(post.created_at);
    }
    showFilled(q(li, ".post-edited"), !!post.edited, postLabels.edited || "");
    var reply = q(li, ".post-reply-to");
    if (reply) {
      show(reply, !!post.reply_to);
      if (!post.reply_to) {
        reply.textContent = "";
      } else {
        var link = replyLine(reply);
        if (link) {
          link.setAttribute("href", document.getElementById("post-" + post.reply_to.id)
            ? "#post-" + post.reply_to.id : postUrl(post.reply_to.id));
        }
        setText(q(reply, ".post-reply-to-author"), post.reply_to.author || gettext("Deleted account"));
        var excerptNode = q(reply, ".post-reply-to-excerpt");
        setText(excerptNode, post.reply_to.deleted ? gettext("deleted post") : post.reply_to.excerpt || "");
        setLang(excerptNode, post.reply_to.deleted ? "" : post.reply_to.language);
      }
    }
    var note = q(li, ".post-state-note");
    setText(note, stateNote(state));
    show(note, !published && !post.deleted && sees);
    moderationNote(li, post);
    showFilled(q(li, ".post-deleted-note"), !!post.deleted, postLabels.deleted_note || "");
    var body = q(li, ".post-body");
    if (body) {
      // body_html is rendered and sanitised once on the server (deliberation.markup).
      body.innerHTML = post.deleted ? "" : (post.body_html || "");
      body.classList.remove("is-plain");
      body.removeAttribute("style");
      setLang(body, post.deleted || !sees ? "" : post.language);
    }
    var agree = q(li, ".post-agree");
    if (agree) {
      // A submit button of the page's #agree-form, sending this post's id.
      agree.value = String(post.id);
      show(agree, !mine && !post.deleted && published);
      agree.setAttribute("aria-label", format(gettext("Agree with the post by %(name)s"), { name: name }));
    }
    setAgreeCount(li, post.reactions);
    show(q(li, ".post-agree-total"), !post.deleted);
    var replyLink = q(li, ".post-reply");
    if (replyLink) {
      replyLink.setAttribute("href", "?" + (pageNumber > 1 ? "page=" + pageNumber + "&" : "")
        + "reply_to=" + post.id + "#reply");
      replyLink.setAttribute("aria-label", format(gettext("Reply to %(name)s"), { name: name }));
      show(replyLink, !post.deleted && sees);
    }
    showLink(q(li, ".post-edit"), mine && !post.deleted, postUrl(post.id, "bearbeiten"),
      postLabels.edit || "");
    showLink(q(li, ".post-delete"), mine && !post.deleted, postUrl(post.id, "loeschen"),
      postLabels["delete"] || "");
    var report = q(li, ".post-report");
    if (report) {
      report.setAttribute("href", "/moderation/beitrag/" + post.id + "/melden/");
      report.setAttribute("aria-label", format(gettext("Report the post by %(name)s"), { name: name }));
      show(report, published && !post.deleted && !mine);
    }
    var moderate = q(li, ".post-moderate");
    if (moderate) {
      moderate.setAttribute("href", "/moderation/beitrag/" + post.id + "/");
      moderate.setAttribute("aria-label", format(gettext("Moderate the post by %(name)s"), { name: name }));
    }
    return li;
  }

  function readerAtBottom() {
    if (!postsList) { return true; }
    // "At the bottom": the end of the list is in view.
    return postsList.getBoundingClientRect().bottom <= window.innerHeight + AT_BOTTOM_PX;
  }

  function insertPost(li) {
    var atBottom = readerAtBottom();
    var empty = document.getElementById("no-posts");
    if (empty) { empty.remove(); }
    var before = postsList.getBoundingClientRect().bottom;
    postsList.appendChild(li);
    if (atBottom) {
      // Follow the conversation like a chat: the text below (the reply form) stays where it was.
      var grown = postsList.getBoundingClientRect().bottom - before;
      if (grown > 0 && document.documentElement.scrollHeight > window.innerHeight) {
        window.scrollBy(0, grown);
      }
    } else {
      // Appended below what is being read, so nothing read moves; offer a way down instead.
      unseen.push(li);
      updateNewPostsButton();
    }
  }

  function updateNewPostsButton() {
    var n = unseen.length;
    newPostsButton.textContent = format(ngettext("%(n)s new post", "%(n)s new posts", n), { n: n });
    newPostsButton.hidden = n === 0;
  }

  newPostsButton.addEventListener("click", function () {
    if (!onLastPage) {
      window.location.href = "?page=last#posts";
      return;
    }
    var first = unseen[0];
    unseen = [];
    updateNewPostsButton();
    if (first && first.isConnected) {
      first.setAttribute("tabindex", "-1");
      first.scrollIntoView({ block: "start" });
      first.focus({ preventScroll: true });
    }
  });

  window.addEventListener("scroll", function () {
    if (unseen.length && onLastPage && readerAtBottom()) {
      unseen = [];
      updateNewPostsButton();
    }
  }, { passive: true });

  /* New posts by others are announced in batches: posts that arrive within ANNOUNCE_BATCH_MS
     of each other are counted together ("3 new posts"), a lone one names its author, and
     between two announcements at least ANNOUNCE_EVERY_MS pass. */
  var lastAuthor = "";
  function queueAnnouncement(post) {
    announceQueue += 1;
    lastAuthor = post.author ? post.author.display_name : gettext("Deleted account");
    if (announceTimer) { return; }
    var wait = Math.max(ANNOUNCE_BATCH_MS, lastAnnounce + ANNOUNCE_EVERY_MS - Date.now());
    announceTimer = window.setTimeout(function () {
      var n = announceQueue;
      announceQueue = 0;
      announceTimer = null;
      lastAnnounce = Date.now();
      announce(n === 1
        ? format(gettext("New post by %(name)s"), { name: lastAuthor })
        : format(ngettext("%(n)s new post", "%(n)s new posts", n), { n: n }));
    }, wait);
  }

  function onPostCreated(post) {
    if (!post || typeof post.id !== "number") { return; }
    var existing = document.getElementById("post-" + post.id);
    var mine = findPendingByPost(post.id);
    if (mine) {
      // Our own post: a fresh copy filled from the server's data replaces the provisional one
      // in place, so it is the same as after a reload.
      var fresh = fillPost(newPostElement(), post);
      mine.item.li.replaceWith(fresh);
      mine.item.li = fresh;
      forgetPending(mine.clientId);
      return;
    }
    if (existing) {
      fillPost(existing, post);
      return;
    }
    if (!onLastPage) {
      unseen.push(null);
      updateNewPostsButton();
      queueAnnouncement(post);
      return;
    }
    if (!postsList) { return; }
    insertPost(fillPost(newPostElement(), post));
    if (!(me && post.author && post.author.id === me.id)) {
      queueAnnouncement(post);
    }
  }

  function updatePost(post, moderation) {
    if (!post || typeof post.id !== "number") { return; }
    if (moderation && moderation.reason) { post.moderation_reason = moderation.reason; }
    var li = document.getElementById("post-" + post.id);
    if (li) { fillPost(li, post); }
  }

  function updateReactions(post) {
    if (!post) { return; }
    var li = document.getElementById("post-" + post.id);
    if (li) { setAgreeCount(li, post.reactions); }
  }

  function applyLocked(locked) {
    root.dataset.locked = locked ? "true" : "false";
    var note = document.getElementById("live-locked");
    if (locked && !note) {
      note = el("p", { id: "live-locked", "class": "notice" },
        gettext("This thread is locked: you can read it, but no new posts can be added."));
      connectionNote.parentNode.insertBefore(note, connectionNote);
      if (!canModerate) { announce(note.textContent); }
    } else if (!locked && note) {
      note.remove();
    }
    if (form && !canModerate) {
      var button = q(form, "button[type=submit]");
      if (button) { button.disabled = locked; }
    }
  }

  function setOnline(count, names) {
    if (typeof count !== "number") { return; }
    var text = format(ngettext("%(n)s person here now", "%(n)s people here now", count), { n: count });
    if (Array.isArray(names) && names.length) {
      text += ": " + names.join(", ");
    }
    onlineNote.textContent = text;
  }

  // --- sending replies ---------------------------------------------------------------------------
  function newClientId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    var bytes = new Uint8Array(16);
    if (window.crypto && window.crypto.getRandomValues) {
      window.crypto.getRandomValues(bytes);
    } else {
      for (var i = 0; i < 16; i += 1) { bytes[i] = Math.floor(Math.random() * 256); }
    }
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function savePending() {
    try {
      var data = [];
      pending.forEach(function (item, clientId) {
        if (!item.acked) { data.push({ client_id: clientId, body: item.body, reply_to: item.replyTo }); }
      });
      if (data.length) {
        window.sessionStorage.setItem(storageKey, JSON.stringify(data));
      } else {
        window.sessionStorage.removeItem(storageKey);
      }
    } catch (_err) { /* private mode: the page still retries while it is open */ }
  }

  function pendingNote(li) {
    var note = q(li, ".post-pending-note");
    if (!note) {
      note = el("p", { "class": "post-pending-note" });
      var body = q(li, ".post-body");
      li.insertBefore(note, body || null);
    }
    return note;
  }

  function markPending(item, state) {
    var li = item.li;
    li.classList.toggle("is-pending", state !== "sent");
    li.classList.toggle("is-waiting", state === "waiting");
    if (state === "sent") {
      li.removeAttribute("aria-busy");
    } else {
      li.setAttribute("aria-busy", "true");
    }
    var text = {
      sending: gettext("Sending…"),
      waiting: gettext("Not sent yet: it will be sent as soon as the connection is back."),
      sent: item.held ? gettext("Sent. It will appear for others once a moderator approves it.")
        : gettext("Sent."),
    }[state];
    setText(pendingNote(li), text);
  }

  function markPendingWaiting() {
    pending.forEach(function (item) {
      if (!item.acked) { markPending(item, "waiting"); }
    });
  }

  function showPending(clientId, body, replyTo) {
    var li = newPostElement();
    li.id = "pending-" + clientId;
    li.className = "post is-pending";
    li.dataset.clientId = clientId;
    setText(q(li, ".post-author"), me ? me.display_name : gettext("You"));
    setText(q(li, ".post-badge"), (me && me.badge) || "");
    show(q(li, ".post-badge"), !!(me && me.badge));
    var bodyNode = q(li, ".post-body");
    if (bodyNode) {
      // Markdown is rendered on the server; until then the text is shown as typed.
      bodyNode.textContent = body;
      bodyNode.classList.add("is-plain");
      bodyNode.style.whiteSpace = "pre-wrap";
    }
    ["post-actions", "post-reply-to", "post-state-note", "post-deleted-note", "post-edited"]
      .forEach(function (cls) { show(q(li, "." + cls), false); });
    var item = { body: body, replyTo: replyTo, li: li, acked: false, postId: null, held: false };
    pending.set(clientId, item);
    if (postsList) {
      var empty = document.getElementById("no-posts");
      if (empty) { empty.remove(); }
      postsList.appendChild(li);
    }
    markPending(item, connected() ? "sending" : "waiting");
    savePending();
    return item;
  }

  function sendPending(clientId, item) {
    var frame = { type: "post.create", client_id: clientId, body: item.body };
    if (item.replyTo) { frame.reply_to = item.replyTo; }
    if (send(frame)) {
      markPending(item, "sending");
    } else {
      markPending(item, "waiting");
    }
  }

  function findPendingByPost(postId) {
    var found = null;
    pending.forEach(function (item, clientId) {
      if (item.postId === postId) { found = { clientId: clientId, item: item }; }
    });
    return found;
  }

  function forgetPending(clientId) {
    var item = pending.get(clientId);
    if (!item) { return; }
    pending.delete(clientId);
    var note = q(item.li, ".post-pending-note");
    if (note && !item.held) { note.remove(); }
    item.li.classList.remove("is-pending", "is-waiting");
    savePending();
  }

  function onAck(frame) {
    if (typeof frame.client_id !== "string") {
      return onOtherAck(frame);
    }
    var item = pending.get(frame.client_id);
    if (!item) { return undefined; }
    item.acked = true;
    item.postId = frame.post;
    item.held = frame.state === "held";
    markPending(item, "sent");
    savePending();
    announce(item.held ? gettext("Sent. It will appear for others once a moderator approves it.")
      : gettext("Your post was sent."));
    var rendered = document.getElementById("post-" + frame.post);
    if (rendered && rendered !== item.li) {
      // The post.created event came first: keep the server's rendering only.
      item.li.remove();
      pending.delete(frame.client_id);
      return undefined;
    }
    item.li.id = "post-" + frame.post;
    item.li.dataset.postId = String(frame.post);
    if (item.held) {
      pending.delete(frame.client_id); // no event will follow for others; keep our copy
    }
    return undefined;
  }

  function onOtherAck(frame) {
    var waiting = reactionRefs.get(frame.ref);
    if (!waiting) { return; }
    reactionRefs.delete(frame.ref);
    if (typeof frame.reacted === "boolean") {
      waiting.button.setAttribute("aria-pressed", frame.reacted ? "true" : "false");
      setAgreeCount(waiting.li, frame.reactions);
      announce(frame.reacted ? gettext("Agreement saved.") : gettext("Agreement withdrawn."));
    }
  }

  function onError(frame) {
    var message = typeof frame.message === "string" ? frame.message : gettext("Something went wrong.");
    var item = typeof frame.ref === "string" ? pending.get(frame.ref) : null;
    if (item) {
      // Refused: nothing was saved. Give the text back so nothing typed is lost.
      pending.delete(frame.ref);
      item.li.remove();
      savePending();
      if (textarea) {
        textarea.value = textarea.value ? item.body + "\n\n" + textarea.value : item.body;
        if (replyToInput && item.replyTo && !replyToInput.value) { replyToInput.value = item.replyTo; }
      }
      showFormError(message);
      announce(format(gettext("Not sent: %(reason)s"), { reason: message }));
      return;
    }
    var reaction = reactionRefs.get(frame.ref);
    if (reaction) {
      reactionRefs.delete(frame.ref);
    }
    if (frame.code === "forbidden" || frame.code === "rate_limited" || reaction) {
      announce(message);
    }
  }

  function showFormError(message) {
    if (!formError.parentNode) { return; }
    formError.textContent = message;
    formError.hidden = false;
    if (textarea) {
      textarea.setAttribute("aria-describedby",
        (textarea.getAttribute("aria-describedby") || "").replace("reply-live-error", "").trim()
          + " reply-live-error");
      textarea.setAttribute("aria-invalid", "true");
    }
  }

  function clearFormError() {
    formError.hidden = true;
    formError.textContent = "";
    if (textarea) { textarea.removeAttribute("aria-invalid"); }
  }

  if (form && textarea) {
    form.addEventListener("submit", function (event) {
      // Until the socket has worked once, the plain form does the job (e.g. websockets blocked).
      if (!everConnected()) { return; }
      event.preventDefault();
      clearFormError();
      var body = textarea.value;
      if (!body.trim()) {
        showFormError(gettext("Please write some text."));
        announce(format(gettext("Not sent: %(reason)s"), { reason: gettext("Please write some text.") }));
        textarea.focus();
        return;
      }
      var clientId = newClientId();
      if (clientIdInput) { clientIdInput.value = clientId; }
      var replyTo = replyToInput && replyToInput.value ? Number(replyToInput.value) : null;
      var item = showPending(clientId, body, replyTo);
      textarea.value = "";
      setReplyTarget(null);
      sendPending(clientId, item);
      if (clientIdInput) { clientIdInput.value = newClientId(); }
    });
  }

  // --- replying to a post, agreeing --------------------------------------------------------------
  function setReplyTarget(li) {
    if (!replyToInput) { return; }
    replyToInput.value = li ? li.dataset.postId : "";
    if (!replyNote) { return; }
    if (li) {
      var link = q(replyNote, "a[href^='#post-']");
      if (link) { link.setAttribute("href", "#post-" + li.dataset.postId); }
      setText(q(replyNote, ".reply-to-note-author"), (q(li, ".post-author") || {}).textContent || "");
      var text = ((q(li, ".post-body") || {}).textContent || "").replace(/\s+/g, " ").trim();
      var noteExcerpt = q(replyNote, ".reply-to-note-excerpt");
      setText(noteExcerpt, text.length > 140 ? text.slice(0, 139) + "…" : text);
      setLang(noteExcerpt, (q(li, ".post-body") || { getAttribute: function () { return ""; } })
        .getAttribute("lang"));
    }
    replyNote.hidden = !li;
  }

  var reactionRefs = new Map();
  if (postsList) {
    postsList.addEventListener("click", function (event) {
      var link = event.target.closest ? event.target.closest("a.post-reply") : null;
      if (!link || !textarea) { return; }
      var li = link.closest("li.post");
      if (!li || !li.dataset.postId) { return; }
      event.preventDefault();
      setReplyTarget(li);
      textarea.focus();
    });
    // A toggle is a submit button of the page's #agree-form (Space and Enter click it too):
    // with the socket up, the click is taken over; offline, the plain form still works.
    postsList.addEventListener("click", function (event) {
      var button = event.target.closest ? event.target.closest("button.post-agree") : null;
      if (!button || !connected()) { return; }
      var li = button.closest("li.post");
      if (!li || !li.dataset.postId) { return; }
      event.preventDefault();
      // One toggle at a time per post. The button is not disabled meanwhile: a disabled button
      // would drop the keyboard focus to <body>.
      var inFlight = false;
      reactionRefs.forEach(function (waiting) { if (waiting.li === li) { inFlight = true; } });
      if (inFlight) { return; }
      refId += 1;
      var ref = "r" + refId;
      reactionRefs.set(ref, { li: li, button: button });
      if (!send({ type: "reaction.toggle", post: Number(li.dataset.postId), id: ref })) {
        reactionRefs.delete(ref);
      }
    });
  }
  if (replyNote) {
    var cancel = q(replyNote, ".reply-to-cancel");
    if (cancel) {
      cancel.addEventListener("click", function (event) {
        event.preventDefault();
        setReplyTarget(null);
        if (textarea) { textarea.focus(); }
      });
    }
  }

  // --- start -------------------------------------------------------------------------------------
  function restorePending() {
    var saved;
    try {
      saved = JSON.parse(window.sessionStorage.getItem(storageKey) || "[]");
    } catch (_err) {
      saved = [];
    }
    if (!Array.isArray(saved)) { return; }
    saved.forEach(function (entry) {
      if (entry && typeof entry.client_id === "string" && typeof entry.body === "string") {
        showPending(entry.client_id, entry.body, entry.reply_to || null);
      }
    });
  }

  restorePending();
  stream = window.Mitmachen.live.open({
    path: wsPath,
    after: Number(root.dataset.lastSeq) || 0,
    onEvent: applyEvent,
    onHello: onHello,
    onFrame: onFrame,
    onReset: onReset,
    onStatus: setConnection,
    onDrop: markPendingWaiting,
    onSeq: setSeq
  });
})();
