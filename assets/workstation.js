/* NexDrive Academy instructor workstation: works with no signal.
 *
 * - The week (lessons, learners, progress snapshots) is fetched from /api/v1/workstation/snapshot when
 *   online and kept in localStorage; the pages are drawn from that copy.
 * - A recorded, signed lesson goes to an outbox in IndexedDB under an id made on the phone
 *   (crypto.randomUUID) and is POSTed to /api/v1/workstation/lessons; the server is idempotent on that id,
 *   so a resend after a lost reply stores nothing twice. A refusal stays on the phone with its reason.
 * - No Reflex events: they wait for the websocket (see the offline notes). The pages are precached by
 *   the service worker /sw.js (written at build time by nexdrive/offline.py).
 */
(function () {
  "use strict";
  if (window.ws) return;
  var SNAP_KEY = "nxd-ws-snapshot";
  var FORM_KEY = "nxd-ws-form:";
  var HOME = "/instructor";
  var RECORD = "/instructor/lesson/new";
  var LEARNER = "/instructor/learner";
  var ws = (window.ws = {});
  var snap = null;
  try { snap = JSON.parse(localStorage.getItem(SNAP_KEY) || "null"); } catch (e) { snap = null; }
  var st = { tab: "today", step: "details", online: navigator.onLine, fetched: false, syncing: false,
             note: "", outbox: [], form: null, formKey: "", result: null, signedOut: false, sent: {} };

  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function $(id) { return document.getElementById(id); }
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16); crypto.getRandomValues(b); b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  function path() { return location.pathname.replace(/\/+$/, "") || "/"; }
  function param(name) { return new URLSearchParams(location.search).get(name) || ""; }

  // ── The outbox (IndexedDB) ──────────────────────────────────────────────────
  var dbp = null;
  function db() {
    if (!dbp) dbp = new Promise(function (resolve, reject) {
      var r = indexedDB.open("nxd-workstation", 1);
      r.onupgradeneeded = function () { r.result.createObjectStore("outbox", { keyPath: "client_id" }); };
      r.onsuccess = function () { resolve(r.result); };
      r.onerror = function () { reject(r.error); };
    });
    return dbp;
  }
  function tx(mode, fn) {
    return db().then(function (d) {
      return new Promise(function (resolve, reject) {
        var t = d.transaction("outbox", mode), s = t.objectStore("outbox"), out = fn(s);
        t.oncomplete = function () { resolve(out && out.result !== undefined ? out.result : undefined); };
        t.onerror = function () { reject(t.error); };
      });
    });
  }
  function loadOutbox() {
    return tx("readonly", function (s) { return s.getAll(); }).then(function (rows) {
      st.outbox = (rows || []).sort(function (a, b) { return a.saved_at < b.saved_at ? -1 : 1; });
      return st.outbox;
    });
  }
  function putRecord(rec) { return tx("readwrite", function (s) { return s.put(rec); }).then(loadOutbox); }
  function dropRecord(id) { return tx("readwrite", function (s) { return s["delete"](id); }).then(loadOutbox); }

  // ── Talking to the server (fetch, never the websocket) ─────────────────────
  function call(method, url, body, ms) {
    var ctl = new AbortController(), timer = setTimeout(function () { ctl.abort(); }, ms || 10000);
    return fetch(url, { method: method, credentials: "same-origin", signal: ctl.signal,
                        headers: { "Content-Type": "application/json", Accept: "application/json" },
                        body: body ? JSON.stringify(body) : undefined })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (j) {
          return { ok: r.ok, status: r.status, data: (j && j.data) || {}, error: (j && j.error) || {} };
        });
      })
      .catch(function () { return { ok: false, status: 0, data: {}, error: { code: "NETWORK" } }; })
      .finally(function () { clearTimeout(timer); });
  }
  function refreshSnapshot() {
    return call("GET", "/api/v1/workstation/snapshot", null, 8000).then(function (r) {
      st.fetched = true;
      if (r.ok) {
        snap = r.data; st.online = true; st.signedOut = false;
        try { localStorage.setItem(SNAP_KEY, JSON.stringify(snap)); } catch (e) { /* full: keep going */ }
      } else if (r.status === 401 || r.status === 403) {
        st.online = true; st.signedOut = true;
      } else if (r.status === 0 || r.status >= 500) {
        st.online = false;
      }
      render(true);
    });
  }
  function describe(r) {
    var e = r.error || {}, d = e.details || {}, msg = e.message || "The server refused this lesson.";
    if (d.field) msg += " (check: " + String(d.field).replace(/_/g, " ") + ")";
    return msg;
  }
  ws.syncNow = function () {
    if (st.syncing) return Promise.resolve();
    st.syncing = true; render(true);
    return loadOutbox().then(function (rows) {
      var pending = rows.filter(function (x) { return x.state !== "refused"; });
      var sent = 0, chain = Promise.resolve(true);
      pending.forEach(function (rec) {
        chain = chain.then(function (go) {
          if (!go) return false;
          return call("POST", "/api/v1/workstation/lessons", rec.payload, 20000).then(function (r) {
            if (r.ok) { sent++; st.online = true; st.sent[rec.client_id] = r.data; return dropRecord(rec.client_id).then(function () { return true; }); }
            if (r.status === 0 || r.status >= 500 || r.status === 429) { st.online = r.status !== 0; return false; }
            if (r.status === 401) { st.signedOut = true; return false; }
            rec.state = "refused"; rec.error = describe(r);
            return putRecord(rec).then(function () { return true; });
          });
        });
      });
      return chain.then(function () {
        st.syncing = false;
        if (sent) return refreshSnapshot();
        render(true);
      });
    }).catch(function () { st.syncing = false; render(true); });
  };
  ws.discard = function (id) {
    if (!window.confirm("Delete this lesson from the phone? It has not been sent.")) return;
    dropRecord(id).then(function () { render(true); });
  };

  // ── Home: today and the week ───────────────────────────────────────────────
  function learnerSnap(sid) { return (snap && snap.snapshots && snap.snapshots[sid]) || null; }
  function waitingFor(bookingId) {
    return st.outbox.some(function (r) { return r.payload && r.payload.booking_id === bookingId; });
  }
  function lessonCard(l, isNext, pending) {
    var s = l.student_id ? learnerSnap(l.student_id) : null, h = [];
    h.push('<article class="ws-card' + (isNext ? " next" : "") + (pending ? " to-record" : "") + '" data-booking="' + esc(l.booking_id) + '">');
    if (isNext) h.push('<p class="ws-muted"><strong>Next lesson</strong></p>');
    h.push('<h2 class="ws-name" style="margin:0;font-size:20px">' + (l.student_id ? '<a class="ws-learner-link" style="display:inline-flex;align-items:center;min-height:44px" href="' +
           LEARNER + "/?id=" + esc(l.student_id) + '">' + esc(l.learner_name) + "</a>" : esc(l.learner_name)) + "</h2>");
    h.push("<p><strong>" + esc(pending ? (l.when_label || l.day_label + ", " + l.time_label) : l.time_label) + "</strong> · " + esc(l.service) + "</p>");
    if (l.pickup) h.push('<p class="ws-muted">Pick up: ' + esc(l.pickup) + "</p>");
    if (l.is_visitor) h.push('<p class="ws-muted">Booked without an account (name as typed when booking).</p>');
    if (s) {
      h.push('<p class="ws-muted">Progress: ' + esc(s.competent) + " of " + esc(s.total) + " tasks achieved</p>");
      if (s.current.length) h.push('<p class="ws-muted">Working on: ' + esc(s.current.join(", ")) + "</p>");
      if (s.next.length) h.push('<p class="ws-muted">Next: ' + esc(s.next.join(", ")) + "</p>");
      if (s.focus) h.push('<p class="ws-muted">Last focus: ' + esc(s.focus) + "</p>");
      if (s.self_assessment) h.push('<p class="ws-muted">' + esc(s.self_assessment) + "</p>");
    }
    h.push('<div class="ws-row">');
    if (l.phone) {
      h.push('<a class="ws-btn" style="display:inline-flex;align-items:center" href="tel:' + esc(l.phone) +
             '" aria-label="Call ' + esc(l.learner_name) + '">Call</a>');
      h.push('<a class="ws-btn" style="display:inline-flex;align-items:center" href="sms:' + esc(l.phone) +
             '" aria-label="SMS ' + esc(l.learner_name) + '">SMS</a>');
    }
    if (l.lesson_id) h.push('<a class="ws-btn" style="display:inline-flex;align-items:center" href="' + LEARNER + "/?id=" + esc(l.student_id) +
             "#lesson-" + esc(l.lesson_id) + '">Lesson recorded ✓</a>');
    else if (waitingFor(l.booking_id)) h.push('<span class="ws-muted">Recorded on this phone, not yet sent</span>');
    else if (l.student_id && pending) h.push('<a class="ws-btn primary ws-start" style="display:inline-flex;align-items:center" href="' +
             RECORD + "/?booking=" + esc(l.booking_id) + '">Record lesson</a>');
    else if (l.student_id) h.push('<a class="ws-btn primary ws-start" style="display:inline-flex;align-items:center" onclick="window.ws.started(\'' +
             esc(l.booking_id) + '\')" href="' +
             RECORD + "/?booking=" + esc(l.booking_id) + '">Start lesson</a>');
    else h.push('<span class="ws-muted">No learner account yet: add one to record this lesson.</span>');
    h.push("</div></article>");
    return h.join("");
  }
  function renderHome() {
    var today = $("ws-today"), week = $("ws-week");
    if (!today || !week) return;
    if ($("ws-date")) $("ws-date").textContent = snap ? "G'day, " + String(snap.instructor_name || "").split(" ")[0] + ". " + snap.today_label : "";
    if (!snap) {
      today.innerHTML = '<p class="ws-muted" data-ws="1">' + (st.fetched ?
        "No copy of your week on this phone yet. Open this page once with a connection." : "Loading today’s lessons…") + "</p>";
      return;
    }
    // "To record" first: lessons of the last week that have started and are not recorded yet (oldest first),
    // so last night's 10:30 pm lesson is still here after midnight; each lesson shows once.
    var pending = snap.to_record || [], listed = {};
    pending.forEach(function (l) { listed[l.booking_id] = true; });
    var todays = snap.lessons.filter(function (l) { return l.day === snap.today && !listed[l.booking_id]; });
    var next = todays.filter(function (l) { return l.booking_id === snap.next_booking_id; });
    var rest = todays.filter(function (l) { return l.booking_id !== snap.next_booking_id; });
    var h = ['<div data-ws="1" id="ws-today-list">'];
    if (pending.length) {
      h.push('<section id="ws-to-record" aria-labelledby="ws-to-record-title"><h2 id="ws-to-record-title" style="font-size:18px;margin:8px 0">To record</h2>');
      pending.forEach(function (l) { h.push(lessonCard(l, false, true)); });
      h.push('</section><h2 style="font-size:18px;margin:8px 0">Today</h2>');
    }
    if (!todays.length) h.push('<p class="ws-muted">' + (pending.length ? "No more lessons today." : "No lessons today.") + "</p>");
    next.forEach(function (l) { h.push(lessonCard(l, true)); });
    rest.forEach(function (l) { h.push(lessonCard(l, false)); });
    h.push("</div>");
    today.innerHTML = h.join("");
    var w = ['<div data-ws="1">'], day = "";
    snap.lessons.forEach(function (l) {
      if (l.day !== day) { if (day) w.push("</ul>"); day = l.day; w.push('<h2 style="font-size:18px;margin:12px 0 4px">' + esc(l.day_label) + '</h2><ul style="padding-left:18px">'); }
      w.push('<li class="ws-week-row">' + esc(l.time_label) + " · <strong>" + esc(l.learner_name) + "</strong> · " + esc(l.service) +
             (l.suburb ? " · " + esc(l.suburb) : "") + "</li>");
    });
    if (day) w.push("</ul>"); else w.push('<p class="ws-muted">Nothing booked this week.</p>');
    w.push("</div>");
    week.innerHTML = w.join("");
  }
  ws.tab = function (name) { st.tab = name; render(true); };
  // "Start lesson" marks the booking under way (POST /bookings/:id/start); offline or refused, recording goes on.
  ws.started = function (id) {
    try { fetch("/api/v1/bookings/" + id + "/start", { method: "POST", credentials: "same-origin", keepalive: true,
                                                       headers: { Accept: "application/json" } }).catch(function () {}); } catch (e) { /* offline */ }
  };
  function applyTab() {
    var t = $("ws-today"), w = $("ws-week");
    if (!t || !w) return;
    t.hidden = st.tab !== "today"; w.hidden = st.tab !== "week";
    if ($("ws-tab-today")) $("ws-tab-today").setAttribute("aria-pressed", String(st.tab === "today"));
    if ($("ws-tab-week")) $("ws-tab-week").setAttribute("aria-pressed", String(st.tab === "week"));
  }
  function renderOutbox() {
    var box = $("ws-outbox"), list = $("ws-outbox-list");
    if (!box || !list) return;
    var n = st.outbox.length;
    box.style.display = n ? "block" : "none";
    var pending = st.outbox.filter(function (r) { return r.state !== "refused"; }).length;
    var refused = n - pending;
    var h = ['<p id="ws-pending-count"><strong>' + (pending === 1 ? "1 lesson not yet sent" : pending ? pending + " lessons not yet sent" :
             (refused === 1 ? "1 lesson needs fixing" : refused + " lessons need fixing")) +
             "</strong>" + (st.syncing ? " · sending…" : "") + "</p>"];
    st.outbox.forEach(function (r) {
      if (r.state !== "refused") return;
      h.push('<div class="ws-refused" data-client="' + esc(r.client_id) + '"><p class="ws-error"><strong>' + esc(r.learner_name) +
             "</strong> (" + esc(r.when) + ") was not accepted: " + esc(r.error) + "</p>" +
             '<div class="ws-row"><a class="ws-btn primary" style="display:inline-flex;align-items:center" href="' + RECORD + "/?draft=" +
             esc(r.client_id) + '">Fix and sign again</a><button type="button" class="ws-btn" onclick="window.ws.discard(\'' +
             esc(r.client_id) + "')\">Delete</button></div></div>");
    });
    var html = h.join("");
    if (list.getAttribute("data-html") !== String(html.length) + ":" + n || !list.firstChild) {
      list.innerHTML = html;
      list.setAttribute("data-html", String(html.length) + ":" + n);
    }
    var btn = $("ws-send-now");
    if (btn) { btn.disabled = st.syncing || !pending; btn.style.display = pending ? "" : "none"; }
  }
  function renderConnection() {
    var c = $("ws-connection");
    if (!c) return;
    var when = snap && snap.generated_at ? new Date(snap.generated_at) : null;
    var stamp = when ? when.toLocaleTimeString("en-AU", { hour: "numeric", minute: "2-digit", timeZone: "Australia/Sydney" }) : "";
    c.textContent = st.signedOut ? "You are signed out: sign in again to send lessons." :
      (st.online ? "Online" : "Offline: showing the copy saved on this phone") + (stamp ? " · updated " + stamp : "");
  }

  // ── Recording a lesson ─────────────────────────────────────────────────────
  var MARKS = [["taught", "Taught"], ["assessed", "Assessed"], ["achieved", "Achieved"]];
  var NOTE_TYPES = [["lesson_specific", "About this lesson"], ["general", "General"], ["safety_concern", "Safety concern"],
                    ["coaching_strategy", "Coaching strategy"], ["personal_interest", "Personal interest (rapport)"]];
  function hhmm(iso) { return iso ? iso.slice(11, 16) : ""; }
  function ampm(t) {  // "20:24" -> "8:24 pm" (Australian 12-hour, as nexdrive/formats.py au_time)
    var m = /^(\d{1,2}):(\d{2})/.exec(t || "");
    if (!m) return t || "";
    var h = Number(m[1]);
    return ((h % 12) || 12) + ":" + m[2] + (h < 12 ? " am" : " pm");
  }
  function span(f) { return ampm(f.start) + " – " + ampm(f.end); }
  function endDay(f) {  // a lesson that finishes at or after midnight (22:58 – 00:03) ends the next day
    if (!f.end || !f.start || f.end >= f.start) return f.day;
    var d = new Date(f.day + "T00:00:00Z"); d.setUTCDate(d.getUTCDate() + 1);
    return d.toISOString().slice(0, 10);
  }
  function newForm() {
    var bookingId = param("booking"), sid = param("student"), l = null, learner = null;
    if (snap && bookingId) l = snap.lessons.concat(snap.to_record || []).filter(function (x) { return x.booking_id === bookingId; })[0] || null;
    if (l) sid = l.student_id;
    if (snap && sid) learner = snap.learners.filter(function (x) { return x.student_id === sid; })[0] || null;
    if (!sid || (bookingId && !l)) return null;
    var day = l ? l.day : snap.today, dayLabel = l ? l.day_label : snap.today_label, now = new Date();
    var end = l ? hhmm(l.end) : "", start = l ? hhmm(l.start) : "";
    if (!l) {
      var t = new Date(Math.floor(now.getTime() / 300000) * 300000), from = new Date(t.getTime() - 3600000);
      var fmt = function (d) { return d.toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit", timeZone: "Australia/Sydney" }); };
      end = fmt(t); start = fmt(from);
      // the hour before 1 am started yesterday (Canberra): the lesson's day is the start's
      var fromDay = from.toLocaleDateString("en-CA", { timeZone: "Australia/Sydney" });
      if (/^\d{4}-\d{2}-\d{2}$/.test(fromDay) && fromDay !== day) {
        day = fromDay;
        dayLabel = from.toLocaleDateString("en-AU", { weekday: "short", day: "numeric", month: "long", timeZone: "Australia/Sydney" }).replace(",", "");
      }
    }
    return { client_id: uuid(), booking_id: l ? l.booking_id : "", student_id: sid,
             learner_name: l ? l.learner_name : (learner ? learner.name : "Learner"), service: l ? l.service : "Lesson",
             day: day, day_label: dayLabel, start: start, end: end, suburb: l ? l.suburb : "", odo_start: "", odo_end: "",
             transmission: (learnerSnap(sid) || {}).transmission || (learner || {}).transmission || "auto",
             tasks: {}, comments: "", went_well: "", practise: "", focus: "", next_lesson: "", bridge_edited: {} };
  }
  function saveForm() { if (st.form) try { sessionStorage.setItem(st.formKey, JSON.stringify({ form: st.form, step: st.step })); } catch (e) { /* ignore */ } }
  function taskName(n) {
    var s = learnerSnap(st.form.student_id), t = s ? s.tasks.filter(function (x) { return x.n === n; })[0] : null;
    return t ? n + ". " + t.name : "Task " + n;
  }
  function bridgeDefaults() {
    var f = st.form, by = { taught: [], assessed: [], achieved: [] };
    Object.keys(f.tasks).forEach(function (k) { if (by[f.tasks[k]]) by[f.tasks[k]].push(taskName(Number(k))); });
    var s = learnerSnap(f.student_id) || { next: [] };
    var nextUp = s.next.filter(function (x) { return f.tasks[parseInt(x, 10)] !== "achieved"; });
    return {
      went_well: by.achieved.length ? "Achieved " + by.achieved.join(", ") + "." :
        (by.assessed.length ? "Worked well on " + by.assessed.join(", ") + "." : ""),
      practise: by.taught.concat(by.assessed).map(function (x) { return "Practise " + x + " on quiet streets first."; }).join("\n"),
      focus: by.taught.concat(by.assessed).join(", "),
      next_lesson: nextUp.length ? "Next lesson: " + nextUp.slice(0, 2).join(", ") + "." : ""
    };
  }
  function field(id, label, value, attrs) {
    return '<div class="ws-field"><label for="' + id + '">' + label + '</label><input id="' + id + '" value="' + esc(value) + '" ' + (attrs || "") + "></div>";
  }
  function area(id, label, value) {
    return '<div class="ws-field"><label for="' + id + '">' + label + '</label><textarea id="' + id + '" rows="3">' + esc(value) + "</textarea></div>";
  }
  function taskRow(t) {
    var mark = st.form.tasks[t.n] || "", h = ['<div class="ws-task" data-task="' + t.n + '">'];
    h.push('<p style="margin:0"><strong>' + esc(t.n + ". " + t.name) + '</strong> <span class="ws-muted">· ' + esc(t.status_label) + "</span></p>");
    if (!t.can_assess && t.locked) h.push('<p class="ws-lock">Locked: ' + esc(t.locked) + "</p>");
    h.push('<div class="ws-row" role="group" aria-label="' + esc(t.name) + '">');
    MARKS.forEach(function (m) {
      var off = (m[0] === "taught" && t.kind === "review") || (m[0] !== "taught" && !t.can_assess) ||
                (m[0] === "taught" && t.status === "competent");
      h.push('<button type="button" class="ws-btn ws-mark" data-mark="' + m[0] + '" aria-pressed="' + (mark === m[0]) + '"' +
             (off ? " disabled" : "") + ' onclick="window.ws.mark(' + t.n + ",'" + m[0] + "')\">" + m[1] + "</button>");
    });
    h.push("</div></div>");
    return h.join("");
  }
  function renderDetails() {
    var f = st.form, s = learnerSnap(f.student_id), h = ['<div data-ws="1">'];
    h.push('<h2 style="font-size:20px;margin:4px 0" id="ws-learner">' + esc(f.learner_name) + "</h2>");
    h.push('<p class="ws-muted">' + esc(f.service) + " · " + esc(f.day_label || f.day) + (f.booking_id ? "" : " · no booking") + "</p>");
    h.push('<div class="ws-row">' + field("ws-start", "Start", f.start, 'type="time" step="300"') + field("ws-end", "Finish", f.end, 'type="time" step="300"') + "</div>");
    h.push(field("ws-suburb", "Suburb", f.suburb, 'autocomplete="off" maxlength="100"'));
    h.push('<div class="ws-row">' + field("ws-odo-start", "Odometer start (km)", f.odo_start, 'inputmode="numeric" pattern="[0-9]*" autocomplete="off"') +
           field("ws-odo-end", "Odometer end (km)", f.odo_end, 'inputmode="numeric" pattern="[0-9]*" autocomplete="off"') + "</div>");
    h.push('<h3 style="font-size:18px;margin:12px 0 0">Tasks</h3><p class="ws-muted">One tap: taught, assessed or achieved. Tap again to undo.</p>');
    if (!s) h.push('<p class="ws-error">No progress copy for this learner on the phone: open Today once online.</p>');
    else {
      var stage = null;
      s.tasks.forEach(function (t) {
        if (t.stage !== stage) { if (stage !== null) h.push("</section>"); stage = t.stage; h.push('<section class="ws-stage"><h4 style="margin:12px 0 0">' + esc(stage) + "</h4>"); }
        h.push(taskRow(t));
      });
      if (stage !== null) h.push("</section>");
    }
    h.push(area("ws-comments", "Comments", f.comments));
    h.push('<div class="ws-row" aria-label="Quick phrases">');
    ((snap && snap.quick_phrases) || []).forEach(function (p, i) {
      h.push('<button type="button" class="ws-btn ws-phrase" onclick="window.ws.phrase(' + i + ')">' + esc(p) + "</button>");
    });
    h.push("</div></div>");
    $("ws-details").innerHTML = h.join("");
    bind({ "ws-start": "start", "ws-end": "end", "ws-suburb": "suburb", "ws-odo-start": "odo_start", "ws-odo-end": "odo_end", "ws-comments": "comments" });
  }
  function bind(map) {
    Object.keys(map).forEach(function (id) {
      var el = $(id);
      if (el) el.addEventListener("input", function () { st.form[map[id]] = el.value; if (map[id] in st.form.bridge_edited) st.form.bridge_edited[map[id]] = true; saveForm(); });
    });
  }
  function renderBridge() {
    var f = st.form, d = bridgeDefaults();
    ["went_well", "practise", "focus", "next_lesson"].forEach(function (k) { if (!f.bridge_edited[k]) f[k] = d[k]; });
    $("ws-bridge").innerHTML = '<div data-ws="1"><h2 style="font-size:20px">For the supervising driver</h2>' +
      area("ws-went-well", "What went well", f.went_well) + area("ws-practise", "What to practise", f.practise) +
      area("ws-focus", "Focus areas", f.focus) + area("ws-next", "Next lesson", f.next_lesson) +
      '<h3 style="font-size:18px;margin:16px 0 4px">Private note</h3><p class="ws-muted">Only you and the office ' +
      'will see this: never the learner or their family.</p>' + area("ws-private", "Private note (optional)", f.private_note || "") +
      '<div class="ws-field"><label for="ws-private-type">Note type</label><select id="ws-private-type" ' +
      'style="font-size:16px;min-height:44px">' + NOTE_TYPES.map(function (t) {
        return '<option value="' + t[0] + '"' + ((f.private_note_type || "lesson_specific") === t[0] ? " selected" : "") + ">" + t[1] + "</option>";
      }).join("") + "</select></div></div>";
    ["went_well", "practise", "focus", "next_lesson"].forEach(function (k) { f.bridge_edited[k] = f.bridge_edited[k] || false; });
    bind({ "ws-went-well": "went_well", "ws-practise": "practise", "ws-focus": "focus", "ws-next": "next_lesson",
           "ws-private": "private_note" });
    var sel = $("ws-private-type");
    if (sel) sel.addEventListener("change", function () { st.form.private_note_type = sel.value; saveForm(); });
  }
  function summary() {
    var f = st.form, parts = [];
    MARKS.forEach(function (m) {
      var ns = Object.keys(f.tasks).filter(function (k) { return f.tasks[k] === m[0]; }).map(Number).sort(function (a, b) { return a - b; });
      if (ns.length) parts.push(m[1] + ": " + ns.map(taskName).join(", "));
    });
    return '<div data-ws="1" class="ws-card"><p><strong>' + esc(f.learner_name) + "</strong> · " + esc(f.day_label || f.day) + " " + esc(span(f)) +
      (f.suburb ? " · " + esc(f.suburb) : "") + "</p>" + (parts.length ? "<p>" + esc(parts.join(" · ")) + "</p>" : "<p>No tasks marked.</p>") +
      (f.comments ? '<p class="ws-muted">' + esc(f.comments) + "</p>" : "") + "</div>";
  }
  function padCanvas(id) { return document.querySelector('[data-pad="' + id + '"] canvas'); }
  function inked(canvas) {
    if (!canvas || !canvas.width) return 0;
    var d = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data, n = 0;
    for (var i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
    return n;
  }
  ws.clearPad = function (id) {
    var c = padCanvas(id);
    if (c) c.getContext("2d").clearRect(0, 0, c.width, c.height);
    if (st.form) { delete st.form[id === "sig-instructor" ? "instructor_signature" : "learner_signature"]; saveForm(); }
    if ($(id + "-error")) $(id + "-error").textContent = "";
  };
  function takePad(id, key) {
    var c = padCanvas(id), err = $(id + "-error");
    if (inked(c) < 50) { if (err) err.textContent = "Please sign in the box first: the pad is blank."; return false; }
    st.form[key] = c.toDataURL("image/png");
    if (err) err.textContent = "";
    saveForm();
    return true;
  }
  function setStep(step) {
    st.step = step;
    var box = $("ws-record");
    if (box) box.setAttribute("data-step", step);
    saveForm();
    window.scrollTo(0, 0);
  }
  function renderStep() {
    var f = st.form;
    if (st.step === "details") renderDetails();
    if (st.step === "bridge") renderBridge();
    if (st.step === "sign-i") {
      $("ws-summary-i").innerHTML = summary();
      $("ws-signer-i").textContent = (snap && snap.instructor_name) || "the instructor";
      $("ws-what-i").textContent = "The instructor confirms this lesson record for " + f.learner_name + ".";
    }
    if (st.step === "sign-l") {
      $("ws-summary-l").innerHTML = summary();
      $("ws-signer-l").textContent = f.learner_name;
      $("ws-what-l").textContent = f.learner_name + " confirms this lesson record (times, tasks and comments above).";
    }
    if (st.step === "done") renderDone();
  }
  ws.go = function (step) {
    if (!st.form) return;
    var err = $("ws-record-error");
    if (err) err.textContent = "";
    if (step === "bridge" && (!st.form.start || !st.form.end)) { if (err) err.textContent = "Please enter the start and finish times."; return; }
    if (step === "sign-l" && st.step === "sign-i" && !takePad("sig-instructor", "instructor_signature")) return;
    setStep(step);
    renderStep();
  };
  ws.mark = function (n, m) {
    var f = st.form;
    if (f.tasks[n] === m) delete f.tasks[n]; else f.tasks[n] = m;
    saveForm();
    var row = document.querySelector('.ws-task[data-task="' + n + '"]');
    if (row) Array.prototype.forEach.call(row.querySelectorAll(".ws-mark"), function (b) { b.setAttribute("aria-pressed", String(f.tasks[n] === b.getAttribute("data-mark"))); });
  };
  ws.phrase = function (i) {
    var p = snap.quick_phrases[i], el = $("ws-comments");
    st.form.comments = (st.form.comments ? st.form.comments.replace(/\s*$/, " ") : "") + p;
    if (el) el.value = st.form.comments;
    saveForm();
  };
  ws.finish = function () {
    if (!takePad("sig-learner", "learner_signature")) return;
    var f = st.form, payload = {
      client_id: f.client_id, student_id: f.student_id, booking_id: f.booking_id || null,
      start_time: f.day + "T" + f.start, end_time: endDay(f) + "T" + f.end, transmission: f.transmission,
      odo_start: f.odo_start || null, odo_end: f.odo_end || null, suburb: f.suburb, comments: f.comments, tasks: f.tasks,
      went_well: f.went_well, practise: f.practise, focus: f.focus, next_lesson: f.next_lesson,
      instructor_signature: f.instructor_signature, learner_signature: f.learner_signature,
      signed_at: new Date().toISOString(), offline: !navigator.onLine,
      private_note: f.private_note || null, private_note_type: f.private_note_type || "lesson_specific"
    };
    var rec = { client_id: f.client_id, payload: payload, form: f, state: "pending", error: "", learner_name: f.learner_name,
                when: (f.day_label || f.day) + " " + ampm(f.start), saved_at: new Date().toISOString() };
    putRecord(rec).then(function () {
      st.result = { state: "saved" };
      ws.clearPad("sig-instructor"); ws.clearPad("sig-learner");
      setStep("done"); renderStep();
      try { sessionStorage.removeItem(st.formKey); } catch (e) { /* ignore */ }
      return ws.syncNow();
    }).then(function () {
      var still = st.outbox.filter(function (r) { return r.client_id === f.client_id; })[0];
      st.result = still ? (still.state === "refused" ? { state: "refused", error: still.error } : { state: "waiting" }) : { state: "sent" };
      if (!still && st.sent[f.client_id] && st.sent[f.client_id].bridge_form_sent) {
        st.result.bridge = "sent"; st.result.bridge_note = "The bridge form was sent with the lesson.";
      }
      renderDone();
    });
  };
  function renderDone() {
    var r = st.result || { state: "saved" }, f = st.form, h = ['<div data-ws="1" id="ws-done-body">'];
    h.push('<h2 style="font-size:22px">Lesson signed</h2><p>' + esc(f.learner_name) + " · " + esc(f.day_label || f.day) + " " + esc(span(f)) + "</p>");
    if (r.state === "sent") h.push('<p id="ws-done-state" data-state="sent"><strong>Sent ✓</strong> The lesson is in the learner’s log book.</p>');
    else if (r.state === "refused") h.push('<p id="ws-done-state" data-state="refused" class="ws-error"><strong>Not accepted:</strong> ' + esc(r.error) +
      '</p><p><a class="ws-btn primary" style="display:inline-flex;align-items:center" href="' + RECORD + "/?draft=" + esc(f.client_id) + '">Fix and sign again</a></p>');
    else h.push('<p id="ws-done-state" data-state="waiting"><strong>Kept on this phone.</strong> It will be sent when you are back online (or tap Send now on Today).</p>');
    if (r.state !== "refused") {
      h.push('<p><button type="button" class="ws-btn primary" id="ws-send-bridge" onclick="window.ws.sendBridge()"' +
             (r.bridge === "sent" || r.bridge === "queued" ? " disabled" : "") + ">Send the bridge form</button></p>");
      if (r.bridge_note) h.push('<p id="ws-bridge-state" data-state="' + esc(r.bridge) + '" role="status">' + esc(r.bridge_note) + "</p>");
      var done = st.sent[f.client_id];
      if (done && done.bridge_form_id) h.push('<p><a class="ws-btn" style="display:inline-flex;align-items:center" id="ws-bridge-link" href="/lessons/bridge?id=' +
             esc(done.bridge_form_id) + '">See the bridge form</a></p>');
    }
    h.push('<p><a class="ws-btn" style="display:inline-flex;align-items:center" href="' + HOME + '/" id="ws-back-today">Back to today</a></p></div>');
    $("ws-done").innerHTML = h.join("");
  }
  ws.sendBridge = function () {
    var f = st.form, r = st.result || {}, done = f && st.sent[f.client_id];
    if (!f) return Promise.resolve();
    if (done && done.bridge_form_id) {
      r.bridge = "sending"; r.bridge_note = "Sending…"; st.result = r; renderDone();
      return call("POST", "/api/v1/bridge-forms/" + done.bridge_form_id + "/send", {}, 15000).then(function (x) {
        if (x.ok) { r.bridge = "sent"; r.bridge_note = "Sent to " + (x.data.recipients === 1 ? "the learner" :
                    "the learner and " + (x.data.recipients - 1) + (x.data.recipients === 2 ? " parent" : " parents")) + " (email and SMS, as each chose)."; }
        else { r.bridge = "failed"; r.bridge_note = x.status === 0 ? "No connection: try again when you are back online." : describe(x); }
        st.result = r; renderDone();
      });
    }
    // Not sent yet (offline): the form goes out with the lesson when the phone is back online.
    return loadOutbox().then(function (rows) {
      var rec = rows.filter(function (x) { return x.client_id === f.client_id; })[0];
      if (!rec) return;
      rec.payload.send_bridge_form = true;
      return putRecord(rec).then(function () {
        r.bridge = "queued"; r.bridge_note = "The bridge form will be sent with the lesson when you are back online.";
        st.result = r; renderDone();
      });
    });
  };
  // Which record the page is for: its booking, learner or draft, not the raw query string (a router that rewrites
  // the address after the page opened must not start the form again and drop what was typed).
  function recordKey() { return ["booking", "student", "draft"].map(function (n) { return n + "=" + param(n); }).join("&"); }
  function startRecord() {
    var key = FORM_KEY + "?" + recordKey();
    st.formKey = key;
    var draft = param("draft");
    if (draft) {
      return loadOutbox().then(function (rows) {
        var rec = rows.filter(function (r) { return r.client_id === draft; })[0];
        if (!rec) { $("ws-details").innerHTML = '<p data-ws="1">That lesson is no longer on this phone (it was sent or deleted).</p>'; return; }
        st.form = rec.form; delete st.form.instructor_signature; delete st.form.learner_signature;
        var err = $("ws-record-error");
        if (err) err.textContent = "Not accepted: " + rec.error + " Change what is needed, then both sign again.";
        setStep("details"); renderStep();
      });
    }
    var saved = null;
    try { saved = JSON.parse(sessionStorage.getItem(key) || "null"); } catch (e) { saved = null; }
    if (saved && saved.form) { st.form = saved.form; st.step = saved.step === "done" ? "details" : saved.step; }
    else st.form = newForm();
    if (!st.form) { renderPicker(); return Promise.resolve(); }
    setStep(st.step || "details"); renderStep();
    return Promise.resolve();
  }
  function renderPicker() {
    var el = $("ws-details");
    if (!snap) { el.innerHTML = '<p data-ws="1">No copy of your week on this phone yet. Open Today once with a connection.</p>'; return; }
    if (param("booking")) { el.innerHTML = '<p data-ws="1">That booking is not in the copy of your week on this phone.</p>'; return; }
    var h = ['<div data-ws="1"><p>Who was the lesson with?</p>'];
    snap.learners.forEach(function (l) {
      h.push('<p><a class="ws-btn" style="display:inline-flex;align-items:center" href="' + RECORD + "/?student=" + esc(l.student_id) + '">' + esc(l.name) + "</a></p>");
    });
    h.push("</div>");
    el.innerHTML = h.join("");
    var next = $("ws-to-bridge");
    if (next) next.style.display = "none";
  }

  // ── The loop: draw what the current page needs (React may replace our nodes after hydration) ──
  var renderedKey = "", recordStarted = "";
  function render(force) {
    var p = path();
    renderConnection();
    if (p === HOME) {
      renderOutbox(); applyTab();
      var key = [snap && snap.generated_at, st.outbox.length, st.fetched].join("|");
      var marker = $("ws-today") && $("ws-today").querySelector("[data-ws]");
      if (force || key !== renderedKey || !marker) { renderedKey = key; renderHome(); }
    } else if (p === RECORD && $("ws-record")) {
      var k = recordKey();
      if (recordStarted !== k) { recordStarted = k; st.form = null; st.step = "details"; startRecord(); return; }
      var box = $("ws-record");
      if (st.form && box.getAttribute("data-step") !== st.step) box.setAttribute("data-step", st.step);
      var panel = { details: "ws-details", bridge: "ws-bridge", "sign-i": "ws-summary-i", "sign-l": "ws-summary-l", done: "ws-done" }[st.step];
      if (st.form && $(panel) && !$(panel).querySelector("[data-ws]")) renderStep();
    }
  }
  function tick() { try { render(false); } catch (e) { if (window.console) console.error(e); } }

  window.addEventListener("online", function () { st.online = true; refreshSnapshot().then(ws.syncNow); });
  window.addEventListener("offline", function () { st.online = false; render(true); });
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js").catch(function () { /* none in dev */ });
  loadOutbox().catch(function () { return []; }).then(function () {
    setInterval(tick, 400);
    tick();
    refreshSnapshot().then(function () { if (st.outbox.length) ws.syncNow(); });
    setInterval(function () {
      if (st.outbox.some(function (r) { return r.state !== "refused"; })) ws.syncNow();
    }, 30000);
  });
})();
