// emay-mock sandbox UI: reads the control API (/_mock/…) and listens to /_mock/events.
// Plain JavaScript, no build step. Every text from the platform is set with textContent.
"use strict";

(() => {
  const $ = (selector, root = document) => root.querySelector(selector);

  /** h("li", {class: "x", onclick: f, "aria-label": "…"}, child, "text", …) */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
      else if (key === "class") el.className = value;
      else if (key === "text") el.textContent = value;
      else el.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }

  /** Replace el's children, skipping null/false like h() does. */
  function fill(el, ...children) {
    el.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
    return el;
  }

  async function api(path, options = {}) {
    const init = { ...options, headers: { Accept: "application/json", ...(options.headers || {}) } };
    if (options.json !== undefined) {
      init.body = JSON.stringify(options.json);
      init.headers["Content-Type"] = "application/json";
    }
    const response = await fetch(path, init);
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { data = { error: text }; }
    if (!response.ok) {
      const error = new Error((data && data.error) || `${response.status} ${response.statusText}`);
      error.data = data;
      error.status = response.status;
      throw error;
    }
    return data;
  }

  const qs = (params) => {
    const search = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== "") search.set(k, v);
    return search.toString();
  };

  // ---- state --------------------------------------------------------------------------------
  const state = {
    appId: localStorage.getItem("emay-mock.appId") || "",
    accounts: [],
    view: "inbox",
    mobile: null,
    smsId: null,
    search: null,          // the search text while results are shown
    clock: null,           // {nowMs, speed, timezone, fetchedAt}
  };

  function say(text, kind = "info") {
    const status = $("#status");
    status.textContent = text;
    status.dataset.kind = kind;
    status.dataset.view = state.view;
  }

  // "1 reply", "2 replies": a count and its noun, singular for exactly one.
  function count(n, one, many = `${one}s`) {
    return `${n} ${n === 1 ? one : many}`;
  }

  // ---- time in the configured zone ------------------------------------------------------------
  let formatter = null;
  function fmt(ms) {
    if (ms === null || ms === undefined) return "";
    if (!formatter) {
      const timeZone = (state.clock && state.clock.timezone) || undefined;
      formatter = new Intl.DateTimeFormat("sv-SE", {
        timeZone, year: "numeric", month: "2-digit", day: "2-digit",
        hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false,
      });
    }
    return formatter.format(new Date(ms));
  }
  const shortTime = (text) => (text || "").slice(5); // "11-25 19:56:31": the year rarely helps

  // ---- accounts --------------------------------------------------------------------------------
  async function loadAccounts() {
    const data = await api("/_mock/accounts");
    state.accounts = data.accounts;
    const select = $("#account");
    select.replaceChildren(...state.accounts.map((a) => h("option", { value: a.appId, text: a.appId })));
    if (!state.accounts.some((a) => a.appId === state.appId)) {
      state.appId = state.accounts.length ? state.accounts[0].appId : "";
    }
    select.value = state.appId;
    showBalance();
  }

  function showBalance() {
    const account = state.accounts.find((a) => a.appId === state.appId);
    $("#balance").textContent = account
      ? `balance ${account.balance} · ${account.push ? "push → " + account.push.mode : "pull queues"}`
      : "no account";
  }

  function chooseAccount(appId) {
    state.appId = appId;
    localStorage.setItem("emay-mock.appId", appId);
    state.search = null;
    $("#search-q").value = "";
    showBalance();
    go(state.view === "inbox" ? "#inbox" : "#" + state.view);
    refresh({ list: true, thread: true, detail: true, ...EVERY_LIST });
  }

  // ---- the clock -----------------------------------------------------------------------------
  async function loadClock() {
    const clock = await api("/_mock/clock");
    const zoneChanged = !state.clock || state.clock.timezone !== clock.timezone;
    state.clock = { ...clock, fetchedAt: Date.now() };
    if (zoneChanged) formatter = null;
    $("#clock-zone").textContent = clock.timezone + (clock.speed !== 1 ? ` · ×${clock.speed}` : "");
    tickClock();
  }

  function tickClock() {
    if (!state.clock) return;
    const { nowMs, speed, fetchedAt } = state.clock;
    const now = nowMs + (Date.now() - fetchedAt) * speed;
    const el = $("#clock-now");
    el.textContent = fmt(now);
    el.dateTime = new Date(now).toISOString();
  }

  async function advance(seconds, button) {
    button.disabled = true;
    try {
      const result = await api("/_mock/clock/advance", { method: "POST", json: { seconds } });
      state.clock = { ...result, fetchedAt: Date.now() };
      tickClock();
      say(`Clock advanced ${seconds} s: ${count(result.jobsRun, "scheduled job")} ran.`);
      refresh({ list: true, thread: true, detail: true, ...EVERY_LIST });
    } catch (error) {
      say(`Advance failed: ${error.message}`, "error");
    } finally {
      button.disabled = false;
    }
  }

  // ---- views and routing -----------------------------------------------------------------------
  // #inbox, #inbox/<mobile>, #inbox/<mobile>/<smsId>, #templates, #links, #accounts, #pushes,
  // #scenarios, #journal, #drift
  function go(hash) {
    if (location.hash !== hash) location.hash = hash;
    else route();
  }

  function route() {
    const [view, mobile, smsId] = (location.hash.slice(1) || "inbox").split("/").map(decodeURIComponent);
    const known = ["inbox", "templates", "links", "accounts", "pushes", "scenarios", "journal", "drift"];
    state.view = known.includes(view) ? view : "inbox";
    const status = $("#status");  // an error said on another page is not this one's
    if (status.dataset.kind === "error" && status.dataset.view !== state.view) say("");
    for (const name of known) $(`#view-${name}`).hidden = name !== state.view;
    for (const link of document.querySelectorAll(".tabs a")) {
      if (link.dataset.view === state.view) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    if (state.view === "inbox") {
      state.mobile = mobile || null;
      state.smsId = smsId || null;
      $("#view-inbox").dataset.pane = state.smsId ? "detail" : state.mobile ? "thread" : "list";
      refresh({ list: true, thread: true, detail: true });
    } else {
      refresh({ [state.view]: true });
    }
  }

  // ---- refresh, coalesced: many events in a burst cost one reload per panel ------------------
  const dirty = new Set();
  let refreshTimer = null;
  function refresh(parts) {
    for (const [part, on] of Object.entries(parts)) if (on) dirty.add(part);
    if (refreshTimer === null) refreshTimer = setTimeout(runRefresh, 60);
  }

  async function runRefresh() {
    refreshTimer = null;
    const parts = new Set(dirty);
    dirty.clear();
    const jobs = [];
    if (state.view === "inbox") {
      if (parts.has("list")) jobs.push(renderList());
      if (parts.has("thread")) jobs.push(renderThread());
      if (parts.has("detail")) jobs.push(renderDetail());
    }
    if (state.view === "pushes" && parts.has("pushes")) jobs.push(renderPushes());
    if (state.view === "scenarios" && parts.has("scenarios")) jobs.push(renderScenarios());
    if (state.view === "journal" && parts.has("journal")) jobs.push(renderJournal());
    if (state.view === "drift" && parts.has("drift")) jobs.push(renderDrift());
    if (state.view === "templates" && parts.has("templates")) jobs.push(renderTemplates());
    if (state.view === "links" && parts.has("links")) jobs.push(renderLinks());
    if (state.view === "accounts" && parts.has("accounts")) jobs.push(renderAccounts());
    for (const result of await Promise.allSettled(jobs)) {
      if (result.status === "rejected") say(`Could not load: ${result.reason.message}`, "error");
    }
  }

  // Each panel keeps a generation number so a slow answer never overwrites a newer one.
  const generations = {};
  const stale = (panel) => {
    const mine = (generations[panel] = (generations[panel] || 0) + 1);
    return () => generations[panel] !== mine;
  };

  // The lists that page back; a refresh of all of them (account chosen, clock moved, reset).
  const EVERY_LIST = { pushes: true, journal: true, templates: true, links: true, accounts: true };

  // Ids only increase: numbers, or digit strings (smsId, templateId) too long for a Number,
  // which compare by length, then as text.
  function compareIds(a, b) {
    if (typeof a === "number" && typeof b === "number") return a - b;
    const x = String(a), y = String(b);
    return x.length - y.length || (x < y ? -1 : x > y ? 1 : 0);
  }

  /**
   * A newest-first list that loads its first page, older pages on demand ("Older" button,
   * the control API's `before` cursor), and merges live refreshes by id, so the pages already
   * loaded stay while the page itself only ever asks for one page at a time.
   */
  class Pager {
    constructor({ list, more, empty, size, id, load, render, keep = () => true }) {
      Object.assign(this, { list, more, empty, size, id, load, render, keep });
      this.items = [];
      this.done = true;
      this.signature = null;  // what the list is of (account, filters): another one starts over
      this.generation = 0;
      more.addEventListener("click", () => this.older().catch((error) => say(`Could not load: ${error.message}`, "error")));
    }

    /** The first page when the signature changed, else the newest page merged in. */
    async show(signature) {
      if (signature !== this.signature) return this.reset(signature);
      return this.refresh();
    }

    async reset(signature) {
      const generation = ++this.generation;
      const page = await this.load(null, this.size);
      if (generation !== this.generation) return;
      this.signature = signature;
      this.items = page;
      this.done = page.length < this.size;
      this.draw();
    }

    async refresh() {
      const generation = this.generation;
      const page = await this.load(null, this.size);
      if (generation !== this.generation) return;
      if (page.length < this.size) {
        this.items = page;  // the whole list fits one page (a reset may have emptied it)
        this.done = true;
      } else {
        const oldest = this.id(page[page.length - 1]);
        this.items = [...page, ...this.items.filter((item) => compareIds(this.id(item), oldest) < 0)];
      }
      this.draw();
    }

    async older() {
      if (this.done || !this.items.length) return;
      const generation = this.generation;
      this.more.disabled = true;
      try {
        const last = this.id(this.items[this.items.length - 1]);
        const page = await this.load(last, this.size);
        if (generation !== this.generation) return;
        this.items.push(...page.filter((item) => compareIds(this.id(item), last) < 0));
        this.done = page.length < this.size;
        this.draw();
      } finally {
        this.more.disabled = false;
      }
    }

    draw() {
      const shown = this.items.filter(this.keep);
      this.list.replaceChildren(...shown.map((item) => this.render(item)));
      this.more.hidden = this.done;
      if (this.empty) this.empty.hidden = shown.length > 0 || !this.done;
    }
  }

  // ---- inbox: conversations and search --------------------------------------------------------
  async function renderList() {
    const isStale = stale("list");
    const list = $("#conversations");
    if (!state.appId) { list.replaceChildren(); $("#list-empty").hidden = false; return; }
    if (state.search) return renderSearch(isStale);
    const data = await api(`/_mock/conversations?${qs({ appId: state.appId })}`);
    if (isStale()) return;
    $("#list-title").textContent = "Conversations";
    list.replaceChildren(...data.conversations.map((talk) => h("li", {},
      h("button", {
        type: "button", "data-mobile": talk.mobile, "aria-current": talk.mobile === state.mobile ? "true" : null,
        onclick: () => go(`#inbox/${encodeURIComponent(talk.mobile)}`),
      },
        h("span", { class: "line1" },
          h("span", { class: "who", text: talk.mobile }),
          h("span", { class: "when", text: shortTime(talk.lastTime) })),
        h("span", { class: "last" },
          (talk.last.direction === "mo" ? "↩ " : "") + talk.last.text),
        h("span", { class: "muted sr-only" }, `, ${talk.mt} sent, ${count(talk.mo, "reply", "replies")}`)))));
    $("#list-empty").hidden = data.conversations.length > 0;
  }

  async function renderSearch(isStale) {
    const text = state.search.trim();
    const compact = text.replace(/\s+/g, "");
    let found = [];
    if (/^\d{20}$/.test(compact)) {
      // an smsId is unique across accounts: find it wherever it is
      found = (await api(`/_mock/messages?${qs({ smsId: compact })}`)).messages;
    } else {
      const queries = [{ q: text }, { customSmsId: text }];
      if (/^(\+|00)?\d{5,}$/.test(compact)) queries.unshift({ mobile: compact });
      const answers = await Promise.all(queries.map((query) =>
        api(`/_mock/messages?${qs({ appId: state.appId, limit: 200, ...query })}`)));
      const seen = new Set();
      for (const answer of answers) {
        for (const m of answer.messages) if (!seen.has(m.smsId)) { seen.add(m.smsId); found.push(m); }
      }
      found.sort((a, b) => b.times.submitMs - a.times.submitMs);
    }
    if (isStale()) return;
    $("#list-title").textContent = `${found.length} result${found.length === 1 ? "" : "s"} for “${text}”`;
    const list = $("#conversations");
    list.replaceChildren(...found.map((m) => h("li", {},
      h("button", {
        type: "button", "data-sms-id": m.smsId, "aria-current": m.smsId === state.smsId ? "true" : null,
        onclick: () => {
          if (m.appId !== state.appId) { state.appId = m.appId; $("#account").value = m.appId; showBalance(); }
          go(`#inbox/${encodeURIComponent(bare(m.mobile))}/${m.smsId}`);
        },
      },
        h("span", { class: "line1" },
          h("span", { class: "who", text: m.mobile }),
          h("span", { class: "when", text: shortTime(m.submitTime) })),
        h("span", { class: "last", text: m.content }),
        h("span", { class: "when mono", text: m.customSmsId ? `customSmsId ${m.customSmsId}` : m.smsId })))));
    $("#list-empty").hidden = true;
  }

  const bare = (mobile) => mobile.replace(/^\s*(\+86|0086|86)(?=1\d{10}$)/, "").trim();

  // ---- inbox: one phone's conversation --------------------------------------------------------
  function stateBadge(message) {
    if (!message.state) {
      const label = message.timerTime && message.times.sendMs > nowMs() ? "scheduled" : "pending";
      return h("span", { class: "state wait", text: label });
    }
    return h("span", { class: `state ${message.state === "DELIVRD" ? "ok" : "bad"}`, text: message.state });
  }

  function nowMs() {
    return state.clock ? state.clock.nowMs + (Date.now() - state.clock.fetchedAt) * state.clock.speed : Date.now();
  }

  // A conversation is two newest-first streams (messages by smsId, MO by moId) paged back
  // separately and shown merged, oldest first. A page of one stream may reach further back
  // than the other's: what is older than both pages' reach waits in a buffer until the next
  // "older", so the thread never shows a gap.
  const THREAD_PAGE = 200;
  const STREAMS = ["mt", "mo"];
  const newThread = (key) => ({
    key, shown: [], loading: false, loaded: Promise.resolve(),
    buffer: { mt: [], mo: [] }, cursor: { mt: null, mo: null }, done: { mt: false, mo: false }, newest: { mt: null, mo: null },
  });
  let thread = newThread(null);
  const mtItem = (m) => ({ kind: "mt", id: m.smsId, ms: m.times.submitMs, m });
  const moItem = (r) => ({ kind: "mo", id: r.moId, ms: r.moTimeMs, r });
  const byTime = (a, b) => a.ms - b.ms || (a.kind === b.kind ? compareIds(a.id, b.id) : a.kind === "mt" ? -1 : 1);
  const threadHasOlder = (t) => STREAMS.some((kind) => !t.done[kind] || t.buffer[kind].length > 0);

  async function threadPage(kind, before) {
    const path = kind === "mt" ? "/_mock/messages" : "/_mock/mo";
    const data = await api(`${path}?${qs({ appId: state.appId, mobile: state.mobile, limit: THREAD_PAGE, before })}`);
    return kind === "mt" ? data.messages.map(mtItem) : data.mo.map(moItem);
  }

  async function threadOlder(t) {
    await Promise.all(STREAMS.map(async (kind) => {
      if (t.done[kind] || t.buffer[kind].length >= THREAD_PAGE) return;
      const page = await threadPage(kind, t.cursor[kind]);
      if (page.length) {
        t.cursor[kind] = page[page.length - 1].id;
        if (t.newest[kind] === null) t.newest[kind] = page[0].id;
      }
      if (page.length < THREAD_PAGE) t.done[kind] = true;
      t.buffer[kind].push(...page);
    }));
    let horizon = -Infinity;  // how far back both streams are known
    for (const kind of STREAMS) {
      const buffer = t.buffer[kind];
      if (!t.done[kind] && buffer.length) horizon = Math.max(horizon, buffer[buffer.length - 1].ms);
    }
    const taken = [];
    for (const kind of STREAMS) {
      const buffer = t.buffer[kind];
      let n = 0;
      while (n < buffer.length && buffer[n].ms >= horizon) n++;
      taken.push(...buffer.splice(0, n));
    }
    t.shown = [...taken.sort(byTime), ...t.shown];
  }

  /** The newest page of each stream merged in: reports update bubbles, new ones are added. */
  async function threadNewest(t) {
    const pages = await Promise.all(STREAMS.map((kind) => threadPage(kind, null)));
    const known = new Map(t.shown.map((item) => [item.kind + item.id, item]));
    let grew = false;
    STREAMS.forEach((kind, i) => {
      for (const item of pages[i]) {
        const shown = known.get(kind + item.id);
        if (shown) Object.assign(shown, item);
        else if (t.newest[kind] === null || compareIds(item.id, t.newest[kind]) > 0) { t.shown.push(item); grew = true; }
      }
      if (pages[i].length && (t.newest[kind] === null || compareIds(pages[i][0].id, t.newest[kind]) > 0)) {
        t.newest[kind] = pages[i][0].id;
      }
    });
    t.shown.sort(byTime);
    return grew;
  }

  async function renderThread() {
    const form = $("#reply");
    if (!state.mobile || !state.appId) {
      thread = newThread(null);
      $("#thread-title").textContent = "Select a conversation";
      $("#thread").replaceChildren();
      $("#thread-older").hidden = true;
      form.hidden = true;
      return;
    }
    const key = `${state.appId}/${state.mobile}`;
    if (thread.key !== key) {
      const t = (thread = newThread(key));
      t.loading = true;  // no "older" (scrolling) and no refresh before the first pages are in
      t.loaded = threadOlder(t).finally(() => { t.loading = false; });
      try {
        await t.loaded;
      } catch (error) {
        if (thread === t) thread = newThread(null);  // the next refresh opens it again
        throw error;
      }
      if (t === thread) drawThread({ follow: true });
      return;
    }
    const t = thread;
    await t.loaded;
    const grew = await threadNewest(t);  // follow the end when it grew; keep the place when a message is picked
    if (t === thread) drawThread({ follow: grew });
  }

  async function olderInThread() {
    const t = thread;
    if (t.loading || !threadHasOlder(t)) return;
    t.loading = true;
    $("#thread-older").disabled = true;
    try {
      await threadOlder(t);
      if (t === thread) drawThread({ keepPlace: true });
    } catch (error) {
      say(`Could not load older messages: ${error.message}`, "error");
    } finally {
      t.loading = false;
      $("#thread-older").disabled = false;
    }
  }

  function drawThread({ follow = false, keepPlace = false } = {}) {
    const list = $("#thread");
    const height = list.scrollHeight, top = list.scrollTop;
    list.replaceChildren(...thread.shown.map((item) => item.kind === "mt" ? mtBubble(item.m) : moBubble(item.r)));
    const older = threadHasOlder(thread);
    $("#thread-older").hidden = !older;
    const sent = thread.shown.filter((item) => item.kind === "mt").length;
    $("#thread-title").textContent = `${state.mobile} · ${sent} sent, ${count(thread.shown.length - sent, "reply", "replies")}` +
      (older ? " shown, older above" : "");
    $("#reply").hidden = false;
    const code = replyExtendedCode();
    $("#reply-hint").textContent = code
      ? `Replies go to extended code ${code}, as the last message to this phone used it.`
      : "Replies arrive as MO: in getMo, or pushed to the account's MO callback.";
    if (keepPlace) {
      list.scrollTop = top + (list.scrollHeight - height);  // the older ones went above: stay where the reader was
    } else if (follow && list.lastElementChild) {
      list.lastElementChild.scrollIntoView({ block: "end" });
    }
  }

  /** A report for a message shown, however far back: its bubble changes at once. */
  function reportArrived(message) {
    const item = thread.shown.find((i) => i.kind === "mt" && i.id === message.smsId);
    if (!item || !message.times) return;
    Object.assign(item, mtItem(message));
    drawThread();
  }

  function mtBubble(m) {
    return h("li", { class: "bubble mt" },
      h("button", {
        type: "button", "data-sms-id": m.smsId, "aria-current": m.smsId === state.smsId ? "true" : null,
        "aria-label": `Message ${m.smsId}: ${m.content}. ${m.state || "no report yet"}`,
        onclick: () => go(`#inbox/${encodeURIComponent(state.mobile)}/${m.smsId}`),
      }, m.content),
      h("div", { class: "meta" },
        h("span", { text: shortTime(m.submitTime) }),
        stateBadge(m),
        m.segments > 1 ? h("span", { text: `${m.segments} segments` }) : null,
        m.customSmsId ? h("span", { class: "mono", text: m.customSmsId }) : null));
  }

  function moBubble(r) {
    return h("li", { class: "bubble mo", "data-mo-id": r.moId },
      h("div", { class: "body", text: r.content }),
      h("div", { class: "meta" },
        h("span", { text: `reply · ${shortTime(r.moTime)}` }),
        r.extendedCode ? h("span", { text: `ext ${r.extendedCode}` }) : null,
        r.source ? h("span", { text: r.source }) : null));
  }

  function replyExtendedCode() {
    for (let i = thread.shown.length - 1; i >= 0; i--) {
      const item = thread.shown[i];
      if (item.kind === "mt") return item.m.extendedCode || null;
    }
    return null;
  }

  async function sendReply(content) {
    if (!content.trim()) return;
    const body = { appId: state.appId, mobile: state.mobile, content };
    const code = replyExtendedCode();
    if (code) body.extendedCode = code;
    try {
      await api("/_mock/mo", { method: "POST", json: body });
      say(`${state.mobile} replied “${content}”.`);
      $("#reply-text").value = "";
      refresh({ thread: true, list: true });
    } catch (error) {
      say(`Reply refused: ${error.message}`, "error");
    }
  }

  // ---- inbox: one message's life ----------------------------------------------------------------
  async function renderDetail() {
    const isStale = stale("detail");
    const box = $("#detail");
    if (!state.smsId) {
      $("#detail-title").textContent = "Message";
      box.replaceChildren(h("p", { class: "empty",
        text: "Select a message to see its life: accepted, scheduled, report, every push attempt." }));
      return;
    }
    let data;
    try {
      data = await api(`/_mock/messages/${encodeURIComponent(state.smsId)}`);
    } catch (error) {
      if (isStale()) return;
      box.replaceChildren(h("p", { class: "empty", text: error.message }));
      return;
    }
    if (isStale()) return;
    const m = data.message;
    $("#detail-title").textContent = `Message ${m.smsId}`;
    const fields = [
      ["smsId", m.smsId], ["to", m.mobile], ["customSmsId", m.customSmsId], ["extendedCode", m.extendedCode],
      ["segments", m.segments], ["endpoint", m.endpoint], ["templateId", m.templateId],
      ["submitted", m.submitTime], ["timerTime", m.timerTime], ["report", m.state ? `${m.state} (${m.desc})` : `due ${m.reportDue} (${m.plannedState})`],
      ["short link", m.shortUrl], ["scenario rules", (m.rules || []).join(", ") || null],
    ];
    fill(box,
      h("pre", { class: "content-box", "aria-label": "Content as delivered", text: m.content }),
      h("dl", { class: "fields" }, fields.filter(([, v]) => v !== null && v !== undefined && v !== "")
        .flatMap(([k, v]) => [h("dt", { text: k }), h("dd", { class: k === "smsId" ? "mono" : null, text: String(v) })])),
      m.shortUrl ? h("div", { class: "actions" },
        h("button", { type: "button", id: "click-link", onclick: () => clickLink(m) }, "Click the short link as this phone"),
        h("a", { href: m.shortUrl, target: "_blank", rel: "noopener", text: "open it in a tab" })) : null,
      h("h3", { text: "Timeline" }),
      h("ol", { class: "timeline" }, data.timeline.map((t) => h("li", {
        class: t.ok === true ? "ok" : t.ok === false ? "bad" : (t.event === "report" && t.detail !== "DELIVRD") ? "bad" : null,
      },
        h("span", { class: "t", text: t.time }),
        h("strong", { text: t.event }), " ",
        h("span", { class: "detail", text: timelineDetail(t) })))),
      data.pushes.length ? h("h3", { text: "Pushes" }) : null,
      data.pushes.map((batch) => pushCard(batch, false)),
      data.clicks.length ? h("h3", { text: `Clicks (${data.clicks.length})` }) : null,
      data.clicks.length ? h("ul", { class: "chips" }, data.clicks.map((c) =>
        h("li", { text: `${c.accessTime} · ${c.equipment || "?"} · ${c.browser || "?"}` }))) : null,
    );
  }

  function timelineDetail(t) {
    let text = t.detail === null || t.detail === undefined ? "" : String(t.detail);
    if (t.latencyMs !== undefined && t.latencyMs !== null) text += ` · ${t.latencyMs} ms`;
    return text;
  }

  async function clickLink(m) {
    const code = m.shortUrl.split("/").pop();
    try {
      await api(`/_mock/shortlinks/${encodeURIComponent(code)}/click`, {
        method: "POST", json: { userAgent: navigator.userAgent, source: "console" },
      });
      say(`Clicked ${m.shortUrl} as ${m.mobile}: it is in getShortLink now.`);
      refresh({ detail: true });
    } catch (error) {
      say(`Click failed: ${error.message}`, "error");
    }
  }

  // ---- push log ---------------------------------------------------------------------------------
  let pushPager = null;
  function renderPushes() {
    pushPager = pushPager || new Pager({
      list: $("#pushes"), more: $("#pushes-more"), empty: $("#pushes-empty"), size: 100, id: (batch) => batch.id,
      load: async (before, limit) => (await api(`/_mock/pushes?${qs({
        appId: state.appId, status: $("#push-status").value, kind: $("#push-kind").value, items: "false", limit, before,
      })}`)).pushes,
      render: (batch) => pushCard(batch, true),
    });
    const signature = [state.appId, $("#push-status").value, $("#push-kind").value].join("|");
    return pushPager.show(signature).then(() => {
      const counts = { pending: 0, delivered: 0, dead: 0 };
      for (const batch of pushPager.items) counts[batch.status] = (counts[batch.status] || 0) + 1;
      $("#push-counts").textContent = `${pushPager.items.length} batch(es) shown` +
        `${pushPager.done ? "" : " (older below)"}: ${counts.pending} pending, ${counts.delivered} delivered, ${counts.dead} dead`;
    });
  }

  function pushCard(batch, open) {
    const badge = { delivered: "ok", dead: "bad", pending: "wait" }[batch.status];
    const canRedeliver = batch.status !== "pending";
    return h("li", { class: "card", "data-batch-id": batch.id, "data-status": batch.status },
      h("div", { class: "head" },
        h("strong", { text: `#${batch.id}` }),
        h("span", { text: `${batch.kind} · ${batch.size} item${batch.size === 1 ? "" : "s"} · ${batch.mode}` }),
        h("span", { class: `state ${badge}`, text: batch.status }),
        batch.nextAttemptAt ? h("span", { class: "muted", text: `next attempt ${batch.nextAttemptAt}` }) : null,
        h("span", { class: "spacer" }),
        canRedeliver ? h("button", {
          type: "button", class: "redeliver", "aria-label": `Redeliver push batch ${batch.id}`,
          onclick: (event) => redeliver(batch.id, event.currentTarget),
        }, "Redeliver") : null),
      h("div", { class: "url mono", text: batch.url || "" }),
      h("details", { open: open && batch.attempts.length <= 6 ? true : null },
        h("summary", { text: `${batch.attempts.length} attempt(s), created ${batch.createdAt}` }),
        h("div", { class: "table-wrap" }, h("table", {},
          h("thead", {}, h("tr", {}, ["#", "scheduled", "sent", "outcome", "body", "ms"].map((c) => h("th", { scope: "col", text: c })))),
          h("tbody", {}, batch.attempts.map((a) => h("tr", { class: a.ok ? "ok" : "bad" },
            h("td", { text: a.n + (a.manual ? " (manual)" : "") + (a.note ? ` ${a.note}` : "") }),
            h("td", { text: fmt(a.scheduledAtMs) }),
            h("td", { text: a.time || fmt(a.sentAtMs) }),
            h("td", {}, h("span", { class: `state ${a.ok ? "ok" : "bad"}`, text: a.error ? "error" : String(a.httpStatus) }),
              a.error ? " " + a.error : ""),
            h("td", { class: "body mono", text: a.body === null ? "" : a.body }),
            h("td", { text: a.latencyMs }))))))));
  }

  async function redeliver(batchId, button) {
    button.disabled = true;
    say(`Redelivering batch #${batchId}…`);
    try {
      const batch = await api(`/_mock/pushes/${batchId}/redeliver`, { method: "POST" });
      const last = batch.attempts[batch.attempts.length - 1];
      const outcome = last ? (last.ok ? `delivered (${last.httpStatus} ${last.body || ""})` : `failed: ${last.error || last.httpStatus}`) : "done";
      say(`Batch #${batchId} redelivered: ${outcome}.`, last && !last.ok ? "error" : "info");
    } catch (error) {
      say(`Redeliver failed: ${error.message}`, "error");
    } finally {
      button.disabled = false;
      refresh({ pushes: true, detail: true });
    }
  }

  // ---- scenarios and coverage -----------------------------------------------------------------
  async function renderScenarios() {
    const isStale = stale("scenarios");
    const [scenarios, coverage] = await Promise.all([api("/_mock/scenarios"), api("/_mock/scenarios/coverage")]);
    if (isStale()) return;
    $("#scenarios").replaceChildren(...scenarios.scenarios.map((s) => h("section", { class: "card" },
      h("div", { class: "head" },
        h("strong", { text: s.name }),
        h("span", { class: "muted", text: `${s.source} · seed ${s.seed} · ${count(s.rules.length, "rule")}` }),
        h("span", { class: "spacer" }),
        s.builtin ? null : h("button", { type: "button", onclick: () => removeScenario(s.name) }, `Remove ${s.name}`)),
      s.description ? h("p", { class: "muted", text: s.description }) : null,
      h("details", {}, h("summary", { text: "rules" }), h("div", { class: "table-wrap" }, h("table", {},
        h("thead", {}, h("tr", {}, ["rule", "line", "outcomes", "matched", "fired"].map((c) => h("th", { scope: "col", text: c })))),
        h("tbody", {}, s.rules.map((r) => h("tr", {},
          h("td", { text: r.name }), h("td", { text: r.line }), h("td", { text: r.outcomes.join(", ") }),
          h("td", { text: r.matched }), h("td", { text: r.fired }))))))))));
    const chips = (counts) => h("ul", { class: "chips" }, Object.entries(counts).map(([name, n]) =>
      h("li", { class: n ? null : "never", text: `${name} ${n}` })));
    fill($("#coverage"),
      h("h3", { text: "Result codes answered" }), chips(coverage.resultCodes),
      h("h3", { text: "Report states produced" }), chips(coverage.reportStates),
      h("p", { class: "muted", text:
        `Never produced: ${coverage.neverProduced.resultCodes.length} result codes, ${coverage.neverProduced.reportStates.length} report states (dashed).` }),
    );
  }

  async function removeScenario(name) {
    try {
      await api(`/_mock/scenarios/${encodeURIComponent(name)}`, { method: "DELETE" });
      say(`Scenario ${name} removed.`);
      refresh({ scenarios: true });
    } catch (error) {
      say(`Remove failed: ${error.message}`, "error");
    }
  }

  async function loadScenario(event) {
    event.preventDefault();
    const problems = $("#scenario-problems");
    problems.hidden = true;
    try {
      const name = $("#scenario-name").value.trim();
      const result = await fetch(`/_mock/scenarios?${qs({ name })}`, {
        method: "POST", headers: { "Content-Type": "application/yaml" }, body: $("#scenario-text").value,
      });
      const data = await result.json();
      if (!result.ok) {
        problems.textContent = [data.error, ...(data.problems || []).map((p) => typeof p === "string" ? p : JSON.stringify(p))].join("\n");
        problems.hidden = false;
        say("The scenario was refused; nothing of it was applied.", "error");
        return;
      }
      say(`Scenario ${(data.scenario && data.scenario.name) || name} loaded.`);
      refresh({ scenarios: true });
    } catch (error) {
      say(`Load failed: ${error.message}`, "error");
    }
  }

  // ---- journal --------------------------------------------------------------------------------
  let journalPager = null;
  function renderJournal() {
    const everyone = () => $("#journal-all").checked;
    journalPager = journalPager || new Pager({
      list: $("#journal tbody"), more: $("#journal-more"), empty: null, size: 100, id: (entry) => entry.id,
      load: async (before, limit) => {
        const data = await api(`/_mock/journal?${qs({ appId: everyone() ? "" : state.appId, limit, before })}`);
        $("#journal-meta").textContent = `Newest first. The journal keeps ${data.size} of at most ${data.capacity} ` +
          `entries (all accounts); ${data.evicted} evicted so far.`;
        return data.entries;
      },
      keep: (entry) => !$("#journal-failed").checked || entry.code !== "SUCCESS",
      render: (e) => h("tr", {},
        h("td", { text: fmt(e.time) }),
        h("td", { class: "mono", text: `${e.family} ${e.endpoint}` + (everyone() ? ` · ${e.appId || "no appId"}` : "") }),
        h("td", {}, h("span", { class: `state ${e.code === "SUCCESS" ? "ok" : "bad"}`, text: e.code || e.httpStatus })),
        h("td", { class: "why", text: [
          e.reason && e.reason.reason,
          ...(e.notes || []).map((n) => n.kind || n.note || JSON.stringify(n)),
          ...(e.rules || []).map((r) => `rule ${r.rule}`),
          e.fault ? `fault ${JSON.stringify(e.fault)}` : null,
        ].filter(Boolean).join(" · ") }),
        h("td", { text: e.latencyMs })),
    });
    return journalPager.show([everyone() ? "*" : state.appId].join("|"));
  }

  // ---- drift: where the real platform answered otherwise than the mock (upstream shadow) ---------
  async function renderDrift() {
    const data = await api(`/_mock/drift?${qs({ appId: state.appId })}`);
    $("#drift-meta").textContent = data.drift.length
      ? `${data.count} exchanges answered otherwise than the mock would have; each difference once, newest first.`
      : "No difference seen. An account with upstream mode shadow compares each of the platform's answers " +
        "with the mock's own (docs/upstream.md).";
    const answer = (side) => h("pre", { class: "mono", text: JSON.stringify(side, null, 1) });
    fill($("#drift tbody"), data.drift.map((d) => h("tr", {},
      h("td", { text: fmt(d.lastTime) }),
      h("td", { class: "mono", text: `${d.family} ${d.endpoint}` }),
      h("td", { class: "why", text: d.differences.join(" · ") }),
      h("td", {}, answer(d.mock)),
      h("td", {}, answer(d.upstream)),
      h("td", { text: d.count }),
      h("td", { class: "mono", text: `#${d.journalId}` }))));
  }

  // ---- templates: the platform's reviewer ---------------------------------------------------------
  const TEMPLATE_BADGE = { pending: "wait", approved: "ok", rejected: "bad", deleted: "gone" };

  let templatePager = null;
  function renderTemplates() {
    const everyone = () => $("#templates-all").checked;
    templatePager = templatePager || new Pager({
      list: $("#templates"), more: $("#templates-more"), empty: $("#templates-empty"), size: 50,
      id: (t) => t.templateId,
      load: async (before, limit) => (await api(`/_mock/templates?${qs({
        appId: everyone() ? "" : state.appId, status: $("#template-status").value, limit, before,
      })}`)).templates,
      render: (t) => templateCard(t, everyone()),
    });
    const account = state.accounts.find((a) => a.appId === state.appId);
    $("#templates-meta").textContent = !account ? "" : account.templateReview === "manual"
      ? `${account.appId} has templateReview: manual: its templates stay pending until you approve or reject them here.`
      : `${account.appId} has its templates approved automatically (server.templateReviewSeconds); ` +
        "you may still decide any of them here.";
    return templatePager.show([everyone() ? "*" : state.appId, $("#template-status").value].join("|"));
  }

  function templateCard(t, everyone) {
    const decide = (status, label) => h("button", {
      type: "button", class: status === "approved" ? "primary" : null, "data-decision": status,
      "aria-label": `${label} template ${t.templateId}`,
      onclick: (event) => reviewTemplate(t, status, event.currentTarget),
    }, label);
    return h("li", { class: "card", "data-template-id": t.templateId, "data-status": t.statusName },
      h("div", { class: "head" },
        h("strong", { class: "mono", text: t.templateId }),
        h("span", { class: `state ${TEMPLATE_BADGE[t.statusName]}`, text: t.statusName }),
        everyone ? h("span", { class: "muted", text: t.appId }) : null,
        h("span", { class: "spacer" }),
        t.deleted || t.statusName === "approved" ? null : decide("approved", "Approve"),
        t.deleted || t.statusName === "rejected" ? null : decide("rejected", "Reject")),
      h("pre", { class: "content-box", text: t.content }),
      h("div", { class: "meta muted" },
        t.variables.length ? `variables: ${t.variables.join(", ")} · ` : "no variables · ",
        `created ${t.createdAt}`, t.reviewedAt ? ` · decided ${t.reviewedAt}` : ""));
  }

  async function reviewTemplate(t, status, button) {
    button.disabled = true;
    try {
      const answer = await api(`/_mock/templates/${encodeURIComponent(t.templateId)}/review`, { method: "POST", json: { status } });
      say(`Template ${t.templateId} ${status} (was ${answer.previous}): queryTemplateSMS answers ` +
        `${answer.template.status} and sends with it ${status === "approved" ? "go through" : "answer ERROR_PARAMS"}.`);
      refresh({ templates: true });
    } catch (error) {
      say(`Review refused: ${error.message}`, "error");
      button.disabled = false;
    }
  }

  // ---- short links and their clicks ---------------------------------------------------------------
  let linkPager = null;
  function renderLinks() {
    const everyone = () => $("#links-all").checked;
    linkPager = linkPager || new Pager({
      list: $("#links"), more: $("#links-more"), empty: $("#links-empty"), size: 30, id: (link) => link.linkId,
      load: async (before, limit) => (await api(`/_mock/shortlinks?${qs({
        appId: everyone() ? "" : state.appId, limit, before,
      })}`)).shortLinks,
      render: (link) => linkCard(link, everyone()),
    });
    return linkPager.show(everyone() ? "*" : state.appId);
  }

  function linkCard(link, everyone) {
    const message = link.message;
    const to = link.rule === "2" ? link.mobile : `${link.recipients} recipient${link.recipients === 1 ? "" : "s"}`;
    return h("li", { class: "card", "data-code": link.code },
      h("div", { class: "head" },
        h("a", { class: "mono", href: link.shortUrl, target: "_blank", rel: "noopener", text: link.shortUrl }),
        h("span", { class: "muted", text: `rule ${link.rule} · ${to}` }),
        everyone ? h("span", { class: "muted", text: link.appId }) : null,
        h("span", { class: `state ${link.clickCount ? "ok" : "wait"}`, text: `${link.clickCount} click${link.clickCount === 1 ? "" : "s"}` }),
        h("span", { class: "spacer" }),
        h("button", {
          type: "button", "aria-label": `Click ${link.shortUrl} as the phone`,
          onclick: (event) => clickShortLink(link, event.currentTarget),
        }, "Click as the phone")),
      h("div", { class: "url" }, "→ ", h("span", { class: "mono", text: link.longUrl })),
      message ? h("p", { class: "link-message" },
        h("a", { href: `#inbox/${encodeURIComponent(bare(message.mobile))}/${message.smsId}`, text: `message ${message.smsId}` }),
        link.rule === "1" ? " (the request's first) " : " ",
        h("span", { class: "muted", text: message.content })) : null,
      link.clicks.length ? h("div", { class: "table-wrap" }, h("table", {},
        h("thead", {}, h("tr", {}, ["time", "mobile", "equipment", "browser", "User-Agent", "by"].map((c) => h("th", { scope: "col", text: c })))),
        h("tbody", {}, link.clicks.map((c) => h("tr", {},
          h("td", { text: c.accessTime }), h("td", { text: c.mobile || "" }), h("td", { text: c.equipment }),
          h("td", { text: c.browser }), h("td", { class: "body mono", text: c.userAgent }), h("td", { text: c.source })))))) : null,
      link.clickCount > link.clicks.length ? h("p", { class: "muted", text: `the newest ${link.clicks.length} of ${link.clickCount} clicks` }) : null);
  }

  async function clickShortLink(link, button) {
    button.disabled = true;
    try {
      await api(`/_mock/shortlinks/${encodeURIComponent(link.code)}/click`, {
        method: "POST", json: { userAgent: navigator.userAgent, source: "console" },
      });
      say(`Clicked ${link.shortUrl}${link.mobile ? " as " + link.mobile : ""}: it is in getShortLink now.`);
      refresh({ links: true });
    } catch (error) {
      say(`Click failed: ${error.message}`, "error");
    } finally {
      button.disabled = false;
    }
  }

  // ---- accounts: balances, settings, what each holds -------------------------------------------------
  // Sends change balances and counts far more often than anyone reads them: at most one reload a second.
  const ACCOUNTS_EVERY_MS = 1000;
  const OUTCOMES_SHOWN = 50;
  let accountsShownAt = 0;
  let accountsLater = null;

  async function renderAccounts() {
    const wait = accountsShownAt + ACCOUNTS_EVERY_MS - Date.now();
    if (wait > 0) {
      accountsLater = accountsLater || setTimeout(() => { accountsLater = null; refresh({ accounts: true }); }, wait);
      return;
    }
    accountsShownAt = Date.now();
    const isStale = stale("accounts");
    const data = await api("/_mock/accounts");
    // What each account's client met so far (the first few dozen accounts: a page, not a report).
    const met = await Promise.all(data.accounts.map((a, i) => i < OUTCOMES_SHOWN
      ? api(`/_mock/outcomes?appId=${encodeURIComponent(a.appId)}`).catch(() => null) : null));
    if (isStale()) return;
    state.accounts = data.accounts;
    showBalance();
    const list = $("#accounts");
    const focused = document.activeElement && list.contains(document.activeElement) ? document.activeElement.id : null;
    const typed = Object.fromEntries([...list.querySelectorAll("input[data-balance]")].map((i) => [i.id, i.value]));
    const opened = new Set([...list.querySelectorAll("details[data-outcomes][open]")].map((d) => d.dataset.outcomes));
    list.replaceChildren(...data.accounts.map((a, i) => accountCard(a, met[i])));
    for (const d of list.querySelectorAll("details[data-outcomes]")) d.open = opened.has(d.dataset.outcomes);
    for (const [id, value] of Object.entries(typed)) { const input = document.getElementById(id); if (input && value) input.value = value; }
    if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
  }

  function accountCard(a, outcomes) {
    const inputId = `balance-${a.appId}`;
    const push = a.push;
    const counts = a.counts || {};
    const fields = [
      ["strict", a.strict ? "yes: deviations are refused" : "no: deviations are noted"],
      ["template review", a.templateReview === "manual" ? "manual: by hand (Templates)" : "automatic"],
      ["push", push ? `${push.mode}; ${push.retrySchedule.length ? `retries after ${push.retrySchedule.join(", ")} s` : "no retries"}; ` +
        `timeout ${push.timeoutSeconds} s` : "none: pull queues"],
      ["report URL", push && push.reportUrl], ["MO URL", push && push.moUrl],
      ["allowed IPs", a.allowedIps.length ? a.allowedIps.join(", ") : "any"],
      ["rate limit", a.maxRequestsPerSecond ? `${a.maxRequestsPerSecond} requests/s` : "none"],
      ["retrieveReport", a.retrieveReport ? "on" : "off"], ["voice", a.voice ? "on" : "off"],
    ];
    const chip = (label, n, bad) => h("li", { class: n && bad ? "bad" : n ? null : "never", text: `${label} ${n}` });
    return h("li", { class: "card account-card", "data-app-id": a.appId, "aria-current": a.appId === state.appId ? "true" : null },
      h("div", { class: "head" },
        h("strong", { class: "mono", text: a.appId }),
        h("span", { class: `balance ${a.balance === 0 ? "bad" : ""}`, "data-balance-value": a.balance, text: `balance ${a.balance}` })),
      h("form", {
        class: "balance-form", "aria-label": `Balance of ${a.appId}`,
        onsubmit: (event) => { event.preventDefault(); changeBalance(a.appId, "set", event.currentTarget); },
      },
        h("label", { for: inputId }, "Segments"),
        h("input", { id: inputId, type: "number", min: "0", step: "1", inputmode: "numeric", required: true, "data-balance": a.appId }),
        h("button", { type: "submit" }, "Set balance"),
        h("button", { type: "button", onclick: (event) => changeBalance(a.appId, "add", event.currentTarget.form) }, "Add to balance")),
      h("dl", { class: "fields" }, fields.filter(([, v]) => v).flatMap(([k, v]) => [h("dt", { text: k }), h("dd", { text: String(v) })])),
      h("ul", { class: "chips", "aria-label": "What it holds now" },
        chip("messages", counts.messages || 0), chip("queued reports", counts.queuedReports || 0),
        chip("queued MO", counts.queuedMo || 0), chip("queued clicks", counts.queuedClicks || 0),
        counts.queuedVoiceReports ? chip("queued voice reports", counts.queuedVoiceReports) : null,
        chip("pending pushes", counts.pendingPushes || 0), chip("dead pushes", counts.deadPushes || 0, true)),
      outcomes ? outcomesOf(outcomes) : null);
  }

  // The outcomes the client met, and how to provoke each it never did.
  function outcomesOf(o) {
    return h("details", { class: "outcomes", "data-outcomes": o.appId },
      h("summary", { text: `Outcomes: met ${o.met} of ${o.of}` }),
      o.seen.length ? h("p", { class: "mono", text: `met: ${o.seen.join(", ")}` }) : null,
      o.howTo.length ? h("ul", { "aria-label": "Outcomes never met" }, ...o.howTo.map((u) =>
        h("li", {}, h("code", { text: u.outcome }), h("span", { text: ` ${u.how}` })))) : null);
  }

  async function changeBalance(appId, how, form) {
    const input = form.querySelector("input");
    const value = Number(input.value);
    if (input.value.trim() === "" || !Number.isSafeInteger(value) || (how === "set" && value < 0)) {
      say(how === "set" ? "The balance is a whole number of segments, 0 or more." : "Add a whole number of segments (negative takes away).", "error");
      input.focus();
      return;
    }
    try {
      const answer = await api(`/_mock/accounts/${encodeURIComponent(appId)}/balance`, { method: "POST", json: { [how]: value } });
      say(`${appId}: balance ${answer.previous} → ${answer.balance}` +
        (answer.balance === 0 ? ". The next send answers ERROR_BALANCE." : "."));
      input.value = "";
      accountsShownAt = 0;
      refresh({ accounts: true });
    } catch (error) {
      say(`Balance refused: ${error.message}`, "error");
    }
  }

  // ---- live events ----------------------------------------------------------------------------
  function listen() {
    const live = $("#live");
    const source = new EventSource("/_mock/events");
    source.onopen = () => { live.dataset.state = "open"; live.textContent = "live"; };
    source.onerror = () => { live.dataset.state = "connecting"; live.textContent = "reconnecting…"; };
    const mine = (data) => !data.appId || data.appId === state.appId;
    const on = (topic, handler) => source.addEventListener(topic, (event) => {
      let data;
      try { data = JSON.parse(event.data); } catch { return; }
      handler(data);
    });
    const touches = (data) => ({
      thread: state.mobile !== null && data.mobile !== undefined && bare(String(data.mobile)) === state.mobile,
      detail: state.smsId !== null && (data.smsId === state.smsId || data.replyTo === state.smsId),
    });
    for (const topic of ["message", "report", "mo"]) {
      on(topic, (data) => {
        if (topic === "report") reportArrived(data);
        // every account's counts and balance are on the accounts page
        refresh({ accounts: true, links: topic === "message" && data.shortUrl !== null });
        if (!mine(data)) return;
        refresh({ list: true, ...touches(data), journal: true });
      });
    }
    on("click", (data) => { refresh({ links: true, accounts: true }); if (mine(data)) refresh({ detail: true }); });
    on("push", (data) => { refresh({ accounts: true }); if (mine(data)) refresh({ pushes: true, detail: state.smsId !== null }); });
    on("template", () => refresh({ templates: true }));
    on("account", () => { loadAccounts().catch(() => {}); refresh({ accounts: true, templates: true }); });
    on("reset", () => {
      thread = newThread(null);  // what was shown may be gone: start the conversation over
      loadAccounts().catch(() => {});
      refresh({ list: true, thread: true, detail: true, scenarios: true, ...EVERY_LIST });
    });
    on("clock", () => { loadClock().catch(() => {}); refresh({ thread: true, detail: true }); });
  }

  // ---- wiring ---------------------------------------------------------------------------------
  function wire() {
    $("#account").addEventListener("change", (event) => chooseAccount(event.target.value));
    for (const button of document.querySelectorAll("[data-advance]")) {
      button.addEventListener("click", () => advance(Number(button.dataset.advance), button));
    }
    $("#search").addEventListener("submit", (event) => {
      event.preventDefault();
      const text = $("#search-q").value.trim();
      state.search = text || null;
      refresh({ list: true });
    });
    $("#search-q").addEventListener("input", (event) => {
      if (!event.target.value.trim() && state.search) { state.search = null; refresh({ list: true }); }
    });
    $("#reply").addEventListener("submit", (event) => { event.preventDefault(); sendReply($("#reply-text").value); });
    $("#reply-td").addEventListener("click", () => sendReply("TD"));
    for (const back of document.querySelectorAll("[data-back]")) {
      back.addEventListener("click", () => go(back.dataset.back === "list"
        ? "#inbox" : `#inbox/${encodeURIComponent(state.mobile)}`));
    }
    $("#thread-older").addEventListener("click", olderInThread);
    // Scrolled to the top of a conversation: the older messages come (as "Older messages" would).
    $("#thread").addEventListener("scroll", (event) => { if (event.target.scrollTop < 40) olderInThread(); });
    $("#template-status").addEventListener("change", () => refresh({ templates: true }));
    $("#templates-all").addEventListener("change", () => refresh({ templates: true }));
    $("#links-all").addEventListener("change", () => refresh({ links: true }));
    $("#push-status").addEventListener("change", () => refresh({ pushes: true }));
    $("#push-kind").addEventListener("change", () => refresh({ pushes: true }));
    $("#journal-failed").addEventListener("change", () => refresh({ journal: true }));
    $("#journal-all").addEventListener("change", () => refresh({ journal: true }));
    $("#drift-reload").addEventListener("click", () => refresh({ drift: true }));
    $("#scenario-form").addEventListener("submit", loadScenario);
    window.addEventListener("hashchange", route);
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && state.view === "inbox" && state.smsId) go(`#inbox/${encodeURIComponent(state.mobile)}`);
    });
    setInterval(tickClock, 1000);
    setInterval(() => loadClock().catch(() => {}), 30000); // re-anchor: the speed may drift the local tick
  }

  async function start() {
    wire();
    try {
      await loadClock();
      await loadAccounts();
    } catch (error) {
      say(`The mock does not answer: ${error.message}`, "error");
    }
    listen();
    route();
    document.body.dataset.ready = "true";
  }

  start();
})();
