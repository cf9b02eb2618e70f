// The Sealcast dashboard: polls /admin/stats every second (rates are differences of the
// counters), /admin/groups every two seconds, and follows /admin/events/stream. Plain script,
// no dependencies, nothing fetched from anywhere but this broker.
//
// The admin token comes from the URL fragment (#token=...), which browsers never send to a
// server, or from the form shown after a 401; it is kept in sessionStorage only and sent as a
// bearer header. EventSource cannot send headers, so the event stream is read with fetch().
"use strict";

(() => {
  const STATS_MS = 1000;
  const GROUPS_MS = 2000;
  const HISTORY_POINTS = 300;   // five minutes of one-second samples
  const MAX_EVENT_ROWS = 100;
  const MAX_GROUP_PAGES = 10;
  const MAX_HISTORY_PAGES = 20;
  const TOKEN_KEY = "sealcast.admin_token";

  const $ = (id) => document.getElementById(id);

  // -- token ---------------------------------------------------------------------------------
  function takeTokenFromFragment() {
    const hash = window.location.hash.replace(/^#/, "");
    if (!hash) return;
    const params = new URLSearchParams(hash);
    const token = params.get("token");
    if (token === null) return;
    try { sessionStorage.setItem(TOKEN_KEY, token); } catch (e) { memoryToken = token; }
    memoryToken = token;
    // Keep the token out of the address bar, bookmarks and screenshots.
    history.replaceState(null, "", window.location.pathname + window.location.search);
  }
  let memoryToken = null;
  function token() {
    try { return sessionStorage.getItem(TOKEN_KEY) || memoryToken; } catch (e) { return memoryToken; }
  }
  function authHeaders(extra) {
    const h = Object.assign({}, extra || {});
    const t = token();
    if (t) h["Authorization"] = "Bearer " + t;
    return h;
  }

  // -- status and errors ---------------------------------------------------------------------
  class HttpError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }
  function setStatus(state, text) {
    const el = $("status");
    el.dataset.state = state;
    el.textContent = text;
  }
  function showError(message) {
    const el = $("error");
    el.hidden = !message;
    el.textContent = message || "";
  }
  let unauthorized = false;
  function onFailure(err) {
    if (err instanceof HttpError && err.status === 401) {
      unauthorized = true;
      $("auth").hidden = false;
      setStatus("unauthorized", "token required");
      stopStream();
      return;
    }
    setStatus("error", "broker unreachable");
    showError(err.message);
  }

  async function api(path) {
    const res = await fetch(path, { headers: authHeaders({ Accept: "application/json" }), cache: "no-store" });
    const text = await res.text();
    if (!res.ok) {
      let message = res.status + " " + res.statusText;
      try { const j = JSON.parse(text); if (j && j.error) message = res.status + ": " + j.error; } catch (e) { /* plain */ }
      throw new HttpError(res.status, path + " answered " + message);
    }
    return JSON.parse(text);
  }

  // -- formatting ----------------------------------------------------------------------------
  const num = (v) => (typeof v === "number" && isFinite(v) ? v : null);
  function setValue(id, value, digits) {
    const el = $(id);
    const v = num(value);
    el.dataset.value = v === null ? "" : String(v);
    el.textContent = v === null ? "–" : (digits ? v.toFixed(digits) : String(Math.round(v)));
  }
  function fmtTime(ts) {
    let d = null;
    if (typeof ts === "number") d = new Date(ts > 1e12 ? ts : ts * 1000);
    else if (typeof ts === "string" && ts) d = new Date(isNaN(Number(ts)) ? ts : Number(ts) * (Number(ts) > 1e12 ? 1 : 1000));
    if (!d || isNaN(d.getTime())) return ts === undefined || ts === null ? "" : String(ts);
    return d.toISOString().slice(11, 19);
  }
  function fmtUptime(s) {
    const v = num(s);
    if (v === null) return "–";
    const h = Math.floor(v / 3600), m = Math.floor((v % 3600) / 60), sec = Math.floor(v % 60);
    return (h ? h + "h " : "") + (h || m ? m + "m " : "") + sec + "s";
  }
  function placeholder(body, columns, text) {
    const row = document.createElement("tr");
    row.className = "empty";
    const td = document.createElement("td");
    td.colSpan = columns;
    td.textContent = text;
    row.appendChild(td);
    body.appendChild(row);
  }
  const str = (v) => (v === undefined || v === null ? "" : typeof v === "object" ? JSON.stringify(v) : String(v));
  function cell(row, text, testid, cls, title) {
    const td = document.createElement("td");
    td.textContent = text;
    if (testid) td.dataset.testid = testid;
    if (cls) td.className = cls;
    if (title) td.title = title;
    row.appendChild(td);
    return td;
  }

  // -- stats and charts ----------------------------------------------------------------------
  const samples = [];  // {t, publish, deliver, connections}
  let previous = null;

  function renderStats(s) {
    const pubsub = s.pubsub || {}, conns = s.connections || {}, storage = s.storage || {}, lat = s.latency_ms || {};
    setValue("stat-published", pubsub.messages_published);
    setValue("stat-delivered", pubsub.messages_delivered);
    setValue("stat-failed", pubsub.messages_failed);
    setValue("stat-pending", storage.pending_messages);
    setValue("stat-connections", conns.current);
    setValue("stat-connections-total", conns.total);
    setValue("stat-groups", pubsub.groups_created);
    setValue("stat-keys-rotated", pubsub.keys_rotated);
    setValue("stat-latency-p50", lat.p50, 2);
    setValue("stat-latency-p99", lat.p99, 2);
    $("uptime").textContent = fmtUptime(s.uptime_s);

    const now = performance.now() / 1000;
    const cur = { t: now, published: num(pubsub.messages_published) || 0, delivered: num(pubsub.messages_delivered) || 0 };
    if (previous && now > previous.t) {
      const dt = now - previous.t;
      // A restarted broker starts its counters again: no negative rates.
      const publish = Math.max(0, (cur.published - previous.published) / dt);
      const deliver = Math.max(0, (cur.delivered - previous.delivered) / dt);
      samples.push({ t: now, publish, deliver, connections: num(conns.current) || 0 });
      if (samples.length > HISTORY_POINTS) samples.shift();
      setValue("rate-publish", publish, 1);
      setValue("rate-deliver", deliver, 1);
    }
    previous = cur;
    drawChart($("chart-rates"), [
      { key: "publish", color: cssVar("--publish") },
      { key: "deliver", color: cssVar("--deliver") },
    ]);
    drawChart($("chart-connections"), [{ key: "connections", color: cssVar("--conn") }]);
  }

  function cssVar(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#333";
  }

  function niceMax(v) {
    if (v <= 1) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 5, 10]) if (v <= m * p) return m * p;
    return 10 * p;
  }

  function drawChart(canvas, lines) {
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(100, canvas.clientWidth || canvas.width), h = Math.max(60, canvas.clientHeight || canvas.height);
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
    }
    const ctx = canvas.getContext("2d");
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const left = 44, right = 8, top = 8, bottom = 18;
    const pw = w - left - right, ph = h - top - bottom;
    let max = 0;
    for (const s of samples) for (const l of lines) max = Math.max(max, s[l.key]);
    max = niceMax(max);

    ctx.font = "11px system-ui, sans-serif";
    ctx.fillStyle = cssVar("--muted");
    ctx.strokeStyle = cssVar("--line");
    ctx.lineWidth = 1;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (let i = 0; i <= 4; ++i) {
      const y = top + ph - (ph * i) / 4;
      ctx.beginPath();
      ctx.moveTo(left, Math.round(y) + 0.5);
      ctx.lineTo(left + pw, Math.round(y) + 0.5);
      ctx.stroke();
      const v = (max * i) / 4;
      ctx.fillText(Number.isInteger(v) ? String(v) : String(parseFloat(v.toFixed(2))), left - 4, y);
    }
    ctx.textAlign = "left";
    ctx.textBaseline = "alphabetic";
    ctx.fillText("last " + HISTORY_POINTS / 60 + " min", left, h - 4);

    const x = (i) => left + pw - ((samples.length - 1 - i) / (HISTORY_POINTS - 1)) * pw;
    const y = (v) => top + ph - (v / max) * ph;
    ctx.lineWidth = 1.5;
    for (const l of lines) {
      ctx.strokeStyle = l.color;
      ctx.beginPath();
      samples.forEach((s, i) => (i ? ctx.lineTo(x(i), y(s[l.key])) : ctx.moveTo(x(i), y(s[l.key]))));
      ctx.stroke();
    }
    canvas.dataset.points = String(samples.length);
  }

  // -- groups ----------------------------------------------------------------------------------
  const listOf = (r, key) => (Array.isArray(r) ? r : (r && (r[key] || r.items)) || []);

  async function loadGroups() {
    const all = [];
    let after = null;
    for (let page = 0; page < MAX_GROUP_PAGES; ++page) {
      const q = "/admin/groups?limit=100" + (after ? "&after=" + encodeURIComponent(after) : "");
      const r = await api(q);
      all.push(...listOf(r, "groups"));
      after = r && !Array.isArray(r) ? r.next : null;
      if (!after) break;
    }
    renderGroups(all, after);
  }

  function renderGroups(groups, more) {
    const body = $("groups-body");
    body.textContent = "";
    for (const g of groups) {
      const id = str(g.id || g.group || g.group_id);
      const row = document.createElement("tr");
      row.dataset.testid = "group-row";
      row.dataset.group = id;
      row.dataset.epoch = str(g.epoch);
      cell(row, id, "group-id", "id");
      cell(row, str(g.name), "group-name");
      cell(row, str(g.epoch), "group-epoch");
      const members = g.member_count !== undefined ? g.member_count : Array.isArray(g.members) ? g.members.length : "";
      cell(row, str(members), "group-members");
      cell(row, str(g.custody), "group-custody");
      cell(row, str(g.policy), "group-policy");
      body.appendChild(row);
    }
    if (!groups.length) placeholder(body, 6, "no groups yet");
    $("groups-count").textContent = "(" + groups.length + (more ? "+" : "") + ")";
    $("groups-count").dataset.value = String(groups.length);
  }

  // -- events ----------------------------------------------------------------------------------
  let lastSeq = null;
  let streamAbort = null;

  function addEvent(ev, fresh) {
    if (!ev || typeof ev !== "object") return;
    const seq = num(Number(ev.seq));
    // History pages may overlap: skip what is shown. The stream sends only events after
    // Last-Event-ID, so a live seq at or below lastSeq means the broker's numbering restarted
    // (a reset stream, another data directory): follow the new numbering.
    if (seq !== null && lastSeq !== null && seq <= lastSeq && !fresh) return;  // already shown
    if (seq !== null) lastSeq = seq;
    const row = document.createElement("tr");
    row.dataset.testid = "event-row";
    row.dataset.seq = str(ev.seq);
    row.dataset.type = str(ev.type);
    if (ev.group) row.dataset.group = str(ev.group);
    if (fresh) row.className = "fresh";
    const short = (v) => { const s = str(v); return s.length > 12 ? s.slice(0, 8) + "…" : s; };
    cell(row, str(ev.seq), "event-seq");
    cell(row, fmtTime(ev.ts), "event-time", "", str(ev.ts));
    cell(row, str(ev.type), "event-type");
    cell(row, short(ev.group), "event-group", "id", str(ev.group));
    cell(row, short(ev.user), "event-user", "id", str(ev.user));
    cell(row, short(ev.message), "event-message", "id", str(ev.message));
    const body = $("events-body");
    for (const empty of body.querySelectorAll("tr.empty")) empty.remove();
    body.insertBefore(row, body.firstChild);
    while (body.children.length > MAX_EVENT_ROWS) body.removeChild(body.lastChild);
  }

  // The history first (paged by seq), so a freshly opened page shows what already happened;
  // then the live stream resumes after the last event shown.
  async function loadHistory() {
    let since = 0;
    if (!$("events-body").children.length) placeholder($("events-body"), 6, "no events yet");
    for (let page = 0; page < MAX_HISTORY_PAGES; ++page) {
      const r = await api("/admin/events?limit=500&since=" + since);
      const items = listOf(r, "events");
      items.forEach((ev) => addEvent(ev, false));
      const next = r && !Array.isArray(r) && r.next !== undefined && r.next !== null ? Number(r.next) : null;
      const advance = next !== null ? next : lastSeq !== null ? lastSeq + 1 : null;
      if (items.length < 500 || advance === null || advance <= since) break;
      since = advance;
    }
  }

  function stopStream() {
    if (streamAbort) streamAbort.abort();
    streamAbort = null;
  }

  async function followStream() {
    while (!unauthorized) {
      const abort = new AbortController();
      streamAbort = abort;
      try {
        const headers = authHeaders({ Accept: "text/event-stream" });
        if (lastSeq !== null) headers["Last-Event-ID"] = String(lastSeq);
        const res = await fetch("/admin/events/stream", { headers, signal: abort.signal, cache: "no-store" });
        if (!res.ok) throw new HttpError(res.status, "/admin/events/stream answered " + res.status);
        $("events-state").textContent = "live";
        await readEvents(res.body.getReader());
      } catch (e) {
        if (abort.signal.aborted) return;
        if (e instanceof HttpError && e.status === 401) { onFailure(e); return; }
      }
      $("events-state").textContent = "reconnecting";
      await new Promise((r) => setTimeout(r, 2000));
    }
  }

  async function readEvents(reader) {
    const decoder = new TextDecoder();
    let buffer = "", data = [];
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let nl;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl).replace(/\r$/, "");
        buffer = buffer.slice(nl + 1);
        if (line === "") {
          if (data.length) {
            try { addEvent(JSON.parse(data.join("\n")), true); } catch (e) { /* not an event */ }
          }
          data = [];
        } else if (line.startsWith("data:")) {
          data.push(line.slice(5).replace(/^ /, ""));
        } else if (line.startsWith(": stream reset")) {
          lastSeq = null;  // the numbering starts over
        }
        // "id:" repeats the event's seq, other ":" lines are heartbeats: nothing to do.
      }
    }
  }

  // -- main loop -------------------------------------------------------------------------------
  let statsTimer = null, groupsTimer = null;

  async function pollStats() {
    if (unauthorized) return;
    try {
      renderStats(await api("/admin/stats"));
      setStatus("live", "live");
      showError("");
    } catch (e) { onFailure(e); }
  }
  async function pollGroups() {
    if (unauthorized) return;
    try { await loadGroups(); } catch (e) { onFailure(e); }
  }

  async function start() {
    unauthorized = false;
    $("auth").hidden = true;
    setStatus("loading", "connecting…");
    clearInterval(statsTimer);
    clearInterval(groupsTimer);
    await pollStats();
    if (unauthorized) return;
    statsTimer = setInterval(pollStats, STATS_MS);
    groupsTimer = setInterval(pollGroups, GROUPS_MS);
    await pollGroups();
    try { await loadHistory(); } catch (e) { onFailure(e); }
    if (!unauthorized) followStream();
  }

  $("auth-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const t = $("auth-token").value.trim();
    try { sessionStorage.setItem(TOKEN_KEY, t); } catch (err) { /* memory only */ }
    memoryToken = t;
    $("auth-token").value = "";
    stopStream();
    start();
  });
  window.addEventListener("hashchange", () => { takeTokenFromFragment(); stopStream(); start(); });

  takeTokenFromFragment();
  start();
})();
