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
    thread: [],            // what the open conversation shows, for the reply's extendedCode
    threadKey: null,       // appId/mobile of that conversation
    clock: null,           // {nowMs, speed, timezone, fetchedAt}
  };

  function say(text, kind = "info") {
    const status = $("#status");
    status.textContent = text;
    status.dataset.kind = kind;
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
    refresh({ list: true, thread: true, detail: true, pushes: true, journal: true });
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
      say(`Clock advanced ${seconds} s: ${result.jobsRun} scheduled job(s) ran.`);
      refresh({ list: true, thread: true, detail: true, pushes: true });
    } catch (error) {
      say(`Advance failed: ${error.message}`, "error");
    } finally {
      button.disabled = false;
    }
  }

  // ---- views and routing -----------------------------------------------------------------------
  // #inbox, #inbox/<mobile>, #inbox/<mobile>/<smsId>, #pushes, #scenarios, #journal
  function go(hash) {
    if (location.hash !== hash) location.hash = hash;
    else route();
  }

  function route() {
    const [view, mobile, smsId] = (location.hash.slice(1) || "inbox").split("/").map(decodeURIComponent);
    const known = ["inbox", "pushes", "scenarios", "journal"];
    state.view = known.includes(view) ? view : "inbox";
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
        h("span", { class: "muted sr-only" }, `, ${talk.mt} sent, ${talk.mo} replies`)))));
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

  async function renderThread() {
    const isStale = stale("thread");
    const list = $("#thread");
    const form = $("#reply");
    if (!state.mobile || !state.appId) {
      $("#thread-title").textContent = "Select a conversation";
      list.replaceChildren();
      form.hidden = true;
      return;
    }
    const [messages, mo] = await Promise.all([
      api(`/_mock/messages?${qs({ appId: state.appId, mobile: state.mobile, limit: 500 })}`),
      api(`/_mock/mo?${qs({ appId: state.appId, mobile: state.mobile, limit: 500 })}`),
    ]);
    if (isStale()) return;
    const items = [
      ...messages.messages.map((m) => ({ kind: "mt", ms: m.times.submitMs, m })),
      ...mo.mo.map((r) => ({ kind: "mo", ms: r.moTimeMs, r })),
    ].sort((a, b) => a.ms - b.ms || (a.kind === "mt" ? -1 : 1));
    // Follow the conversation's end when it is new or grew; keep the place when a message is picked.
    const follow = state.threadKey !== `${state.appId}/${state.mobile}` || items.length > state.thread.length;
    state.threadKey = `${state.appId}/${state.mobile}`;
    state.thread = items;
    $("#thread-title").textContent = `${state.mobile} · ${messages.messages.length} sent, ${mo.mo.length} replies`;
    list.replaceChildren(...items.map((item) => item.kind === "mt" ? mtBubble(item.m) : moBubble(item.r)));
    form.hidden = false;
    const code = replyExtendedCode();
    $("#reply-hint").textContent = code
      ? `Replies go to extended code ${code}, as the last message to this phone used it.`
      : "Replies arrive as MO: in getMo, or pushed to the account's MO callback.";
    const last = list.lastElementChild;
    if (follow && last) last.scrollIntoView({ block: "end" });
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
    for (let i = state.thread.length - 1; i >= 0; i--) {
      const item = state.thread[i];
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
        method: "POST", json: { userAgent: navigator.userAgent },
      });
      say(`Clicked ${m.shortUrl} as ${m.mobile}: it is in getShortLink now.`);
      refresh({ detail: true });
    } catch (error) {
      say(`Click failed: ${error.message}`, "error");
    }
  }

  // ---- push log ---------------------------------------------------------------------------------
  async function renderPushes() {
    const isStale = stale("pushes");
    const data = await api(`/_mock/pushes?${qs({
      appId: state.appId, status: $("#push-status").value, kind: $("#push-kind").value, items: "false", limit: 200,
    })}`);
    if (isStale()) return;
    const counts = { pending: 0, delivered: 0, dead: 0 };
    for (const batch of data.pushes) counts[batch.status] = (counts[batch.status] || 0) + 1;
    $("#push-counts").textContent =
      `${data.pushes.length} batch(es) shown: ${counts.pending} pending, ${counts.delivered} delivered, ${counts.dead} dead`;
    $("#pushes").replaceChildren(...data.pushes.map((batch) => pushCard(batch, true)));
    $("#pushes-empty").hidden = data.pushes.length > 0;
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
        h("span", { class: "muted", text: `${s.source} · seed ${s.seed} · ${s.rules.length} rules` }),
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
  async function renderJournal() {
    const isStale = stale("journal");
    const everyone = $("#journal-all").checked;
    const data = await api(`/_mock/journal?${qs({ appId: everyone ? "" : state.appId, limit: 200 })}`);
    if (isStale()) return;
    const failedOnly = $("#journal-failed").checked;
    const entries = data.entries.filter((e) => !failedOnly || e.code !== "SUCCESS");
    $("#journal-meta").textContent = `Newest first. The journal keeps ${data.size} of at most ${data.capacity} ` +
      `entries (all accounts); ${data.evicted} evicted so far.`;
    $("#journal tbody").replaceChildren(...entries.map((e) => h("tr", {},
      h("td", { text: fmt(e.time) }),
      h("td", { class: "mono", text: `${e.family} ${e.endpoint}` + (everyone ? ` · ${e.appId || "no appId"}` : "") }),
      h("td", {}, h("span", { class: `state ${e.code === "SUCCESS" ? "ok" : "bad"}`, text: e.code || e.httpStatus })),
      h("td", { class: "why", text: [
        e.reason && e.reason.reason,
        ...(e.notes || []).map((n) => n.kind || n.note || JSON.stringify(n)),
        ...(e.rules || []).map((r) => `rule ${r.rule}`),
        e.fault ? `fault ${JSON.stringify(e.fault)}` : null,
      ].filter(Boolean).join(" · ") }),
      h("td", { text: e.latencyMs }))));
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
        if (!mine(data)) return;
        refresh({ list: true, ...touches(data), journal: true });
      });
    }
    on("click", (data) => { if (mine(data)) refresh({ detail: true }); });
    on("push", (data) => { if (mine(data)) refresh({ pushes: true, detail: state.smsId !== null }); });
    on("account", () => loadAccounts().catch(() => {}));
    on("reset", () => { loadAccounts().catch(() => {}); refresh({ list: true, thread: true, detail: true, pushes: true, journal: true, scenarios: true }); });
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
    $("#push-status").addEventListener("change", () => refresh({ pushes: true }));
    $("#push-kind").addEventListener("change", () => refresh({ pushes: true }));
    $("#journal-failed").addEventListener("change", () => refresh({ journal: true }));
    $("#journal-all").addEventListener("change", () => refresh({ journal: true }));
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
