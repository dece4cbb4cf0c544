/* Live polls on the conference page, the poll page and the projector.
 *
 * Registers handlers in Mitmachen.conferenceHandlers (conference.js opens the stream and calls
 * them with every applied event): poll.opened, poll.closed and poll.hall_count carry the poll's
 * complete public snapshot; poll.turnout (unsequenced, coalesced) the newest turnout. The cards
 * are rendered by the server (conferences/polls/_poll.html); this script updates their turnout,
 * status and results in place, cloning the row <template> the partial contains, and fetches the
 * card of a poll that opened live (so its vote form is this member's own).
 *
 * Forms (vote, close, hall count) work without this script; with it a vote is sent over the
 * conference's socket when it is open (poll.vote, acked there), else by fetch like the other
 * forms, and the answer replaces the card in place; focus moves to the answer, which a screen reader reads
 * once. Live changes are announced once through Mitmachen.announce.
 *
 * A closed named poll's snapshot reaches the party's members with each option's "voters" (the
 * display names of those who chose it online, sorted); guests and visitors get it without. The
 * names are rendered as the server renders them (conferences/polls/_voters.html), from the
 * <template>s in _results_row.html. An open or secret poll never has them.
 */
(function () {
  "use strict";
  var M = (window.Mitmachen = window.Mitmachen || {});
  if (M.pollsLoaded) return; // the panel and the projector may both include this script
  M.pollsLoaded = true;
  M.conferenceHandlers = M.conferenceHandlers || {};

  // Looked up at each call: the catalogue (jsi18n) may load after this script.
  function gettext(text) {
    return window.gettext ? window.gettext(text) : text;
  }
  function ngettext(one, many, n) {
    return window.ngettext ? window.ngettext(one, many, n) : (n === 1 ? one : many);
  }
  function fmt(text, values) {
    return window.interpolate ? window.interpolate(text, values, true) : text.replace(/%\((\w+)\)s/g, function (_, k) { return values[k]; });
  }
  function on(type, handler) {
    (M.conferenceHandlers[type] = M.conferenceHandlers[type] || []).push(handler);
  }
  function announce(text) {
    if (M.announce) M.announce(text);
  }
  function labelOf(option) {
    if (option.code === "yes") return gettext("Yes");
    if (option.code === "no") return gettext("No");
    if (option.code === "abstain") return gettext("Abstain");
    return option.label;
  }
  function turnoutText(turnout) {
    return fmt(gettext("%(ballots)s of %(eligible)s registered have voted online."), turnout);
  }
  function rowTemplate() {
    return document.querySelector("template[data-poll-row-template]");
  }

  function renderRows(tbody, options, hallCounted) {
    var template = rowTemplate();
    if (!tbody || !template) return;
    var rows = document.createDocumentFragment();
    options.forEach(function (option) {
      var row = template.content.firstElementChild.cloneNode(true);
      var cells = row.children;
      row.setAttribute("data-option", option.id);
      cells[0].textContent = labelOf(option);
      cells[1].textContent = option.online;
      cells[2].textContent = hallCounted ? option.hall : "–";
      cells[3].textContent = option.total;
      rows.appendChild(row);
    });
    tbody.replaceChildren(rows);
  }

  // Open while short, as the server renders it; a long list stays one line until asked for.
  var OPEN_UP_TO = 12;

  function namesVoters(poll) {
    return poll.status === "closed" && poll.secret === false && (poll.options || []).length > 0 &&
      poll.options.every(function (option) { return Array.isArray(option.voters); });
  }

  // after: the node the box follows when the region has none yet.
  function renderVoters(root, poll, after) {
    var old = root.querySelector("[data-poll-voters]");
    if (poll.status !== "closed" || poll.secret !== false) {
      if (old) old.remove(); // never names for an open or a secret poll
      return;
    }
    if (!namesVoters(poll)) return; // the public snapshot: what the page shows stays
    var boxTemplate = document.querySelector("template[data-poll-voters-template]");
    var groupTemplate = document.querySelector("template[data-poll-voter-group-template]");
    if (!boxTemplate || !groupTemplate || (!old && !after)) return;
    var box = boxTemplate.content.firstElementChild.cloneNode(true);
    var groups = box.querySelector("[data-poll-voter-groups]");
    var wasOpen = old ? Array.prototype.map.call(old.querySelectorAll("details"), function (d) { return d.open; }) : [];
    poll.options.forEach(function (option, index) {
      var names = option.voters;
      var group = groupTemplate.content.firstElementChild.cloneNode(true);
      group.open = wasOpen.length === poll.options.length ? wasOpen[index] : names.length <= OPEN_UP_TO;
      group.querySelector("summary").textContent = fmt(
        ngettext("%(option)s: %(count)s name", "%(option)s: %(count)s names", names.length),
        { option: labelOf(option), count: names.length });
      var list = group.querySelector("ul");
      if (names.length) {
        names.forEach(function (name) {
          var item = document.createElement("li");
          item.textContent = name;
          list.appendChild(item);
        });
      } else {
        list.remove();
      }
      groups.appendChild(group);
    });
    if (old) old.replaceWith(box);
    else after.after(box);
  }

  function setTurnout(root, turnout) {
    var node = root.querySelector("[data-poll-turnout]");
    if (node && turnout) node.textContent = turnoutText(turnout);
  }

  function applyToCard(card, poll) {
    card.setAttribute("data-status", poll.status);
    setTurnout(card, poll.turnout);
    var status = card.querySelector("[data-poll-status]");
    if (status) status.textContent = poll.status === "open" ? gettext("Voting is open") : gettext("Closed");
    if (poll.results_shown) {
      var results = card.querySelector("[data-poll-results]");
      if (results) results.hidden = false;
      var note = card.querySelector("[data-poll-hidden-note]");
      if (note) note.remove();
      renderRows(card.querySelector("[data-poll-rows]"), poll.options, poll.hall_counted);
    }
    renderVoters(card, poll, card.querySelector("[data-poll-results]"));
    if (poll.status !== "open") {
      card.querySelectorAll("form[data-poll-vote]").forEach(function (form) { form.remove(); });
      card.querySelectorAll("form[data-poll-action][action*='schliessen']").forEach(function (form) { form.remove(); });
    }
  }

  function applyToProjector(poll) {
    var region = document.querySelector("[data-poll-projector]");
    if (!region || poll.status !== "closed") return;
    var question = region.querySelector("[data-poll-question]");
    if (question) question.textContent = poll.question;
    var table = region.querySelector("table");
    if (table) table.hidden = false;
    renderRows(region.querySelector("[data-poll-rows]"), poll.options, poll.hall_counted);
    setTurnout(region, poll.turnout);
    // Another poll's names go with it; this one's, if the snapshot carries them, come in.
    var shown = region.getAttribute("data-poll-shown");
    var old = region.querySelector("[data-poll-voters]");
    if (old && shown !== String(poll.id)) old.remove();
    region.setAttribute("data-poll-shown", String(poll.id));
    renderVoters(region, poll, region.querySelector("[data-poll-turnout]"));
  }

  function cardOf(id) {
    return document.querySelector("[data-poll='" + Number(id) + "']");
  }

  function fetchCard(poll) {
    var region = document.querySelector("[data-polls-region][data-polls-url]");
    if (!region) return;
    var url = region.getAttribute("data-polls-url") + Number(poll.id) + "/";
    fetch(url, { headers: { "X-Requested-With": "fetch" }, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (body) {
        if (!body.html || cardOf(poll.id)) return;
        var list = region.querySelector("[data-polls-list]");
        var empty = list.querySelector("[data-polls-empty]");
        if (empty) empty.remove();
        list.insertAdjacentHTML("afterbegin", body.html);
      })
      .catch(function () { /* the page shows it on reload; the event said so already */ });
  }

  on("poll.opened", function (event) {
    var poll = event.poll;
    var card = cardOf(poll.id);
    if (card) { applyToCard(card, poll); return; }
    fetchCard(poll);
    announce(fmt(gettext("A poll has opened: %(question)s"), { question: poll.question }));
  });

  on("poll.closed", function (event) {
    var poll = event.poll;
    var card = cardOf(poll.id);
    var wasOpen = card && card.getAttribute("data-status") === "open";
    if (card) applyToCard(card, poll);
    applyToProjector(poll);
    if (wasOpen) announce(fmt(gettext("The poll has closed: %(question)s"), { question: poll.question }));
  });

  on("poll.hall_count", function (event) {
    var card = cardOf(event.poll.id);
    if (card) applyToCard(card, event.poll);
    applyToProjector(event.poll);
  });

  on("poll.turnout", function (event) {
    var card = cardOf(event.poll);
    if (!card) return;
    setTurnout(card, event.turnout);
    if (event.options) {
      var results = card.querySelector("[data-poll-results]");
      if (results) results.hidden = false;
      renderRows(card.querySelector("[data-poll-rows]"), event.options, false);
    }
  });

  // --- forms by fetch: the answer in place ---------------------------------------------------

  function focusAnswer(card, message, ok) {
    var box = card.querySelector("[data-poll-answer]");
    if (!box) return;
    var notice = box.querySelector(".notice, .error-summary");
    if (!notice || !ok) {
      box.replaceChildren();
      notice = document.createElement("p");
      notice.className = ok ? "notice notice--success" : "notice notice--error";
      notice.textContent = message;
      box.appendChild(notice);
    }
    notice.setAttribute("tabindex", "-1");
    notice.focus(); // read once, on focus; no second announcement
  }

  // A vote goes over the conference's socket when it is open (Mitmachen.conference.send,
  // conference.js): no second request for a member already connected. Otherwise, or when the
  // socket cannot answer, the form is sent by fetch; a busy server (503) names when to try again,
  // and the form is sent again then. Without fetch the form posts as it is.
  function voteFrame(form, card) {
    var options = new FormData(form).getAll("option").map(Number).filter(function (n) { return n > 0; });
    return { type: "poll.vote", poll: Number(card.getAttribute("data-poll")), options: options };
  }

  function postByFetch(form, card, button) {
    return M.postForm(form.action, new FormData(form), {
      onBusy: function (message) { focusAnswer(card, message, false); },
    })
      .then(function (answer) {
        var body = answer.body;
        if (!body) {
          form.submit(); // the plain path gives the same answer
          return;
        }
        if (!body.html && answer.ok && body.ok && form.matches("form[data-poll-vote]")) {
          form.remove(); // counted: the answer below takes the form's place (and the focus)
        }
        if (body.html) {
          var holder = document.createElement("div");
          holder.innerHTML = body.html;
          var fresh = holder.firstElementChild;
          if (fresh) { card.replaceWith(fresh); card = fresh; }
        }
        focusAnswer(card, body.message, answer.ok && body.ok);
        if (button && button.isConnected) button.disabled = false;
      })
      .catch(function () {
        form.submit(); // the plain path gives the same answer
      });
  }

  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!(form instanceof HTMLFormElement)) return;
    if (!form.matches("form[data-poll-vote], form[data-poll-action]")) return;
    var card = form.closest("[data-poll]");
    if (!card || !window.fetch || !M.postForm) return;
    e.preventDefault();
    var button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    var overSocket = form.matches("form[data-poll-vote]") && M.conference && M.conference.send;
    if (!overSocket) { postByFetch(form, card, button); return; }
    M.conference.send(voteFrame(form, card)).then(function (frame) {
      if (frame.type === "ack") {
        form.remove(); // counted: the answer takes the form's place (and the focus)
        focusAnswer(card, gettext("Your vote has been counted."), true);
        return;
      }
      if (frame.code === "internal" || frame.code === "rate_limited") {
        postByFetch(form, card, button); // the form's path answers for itself
        return;
      }
      focusAnswer(card, frame.message, false);
      if (button && button.isConnected) button.disabled = false;
    }, function () {
      postByFetch(form, card, button); // the socket is not open, or dropped before the answer
    });
  });
})();
