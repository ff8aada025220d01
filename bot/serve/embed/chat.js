/* The widget's chat (GET /embed/): plain JS, no framework, no build step.
 * The page's CSP allows no inline code, so every node is built with createElement and
 * filled with textContent: questions, answers, quotes and greetings always show as text.
 * The conversation lives in sessionStorage, so a reload (or the next page of the college
 * site) keeps it (where the browser gives a page framed by another site no storage, the
 * launcher keeps it on the college page's side: see save()); answers stream from
 * POST ../api/chat as server-sent events. */
"use strict";
(() => {
  // One conversation per assistant: a site of several (/s/<name>/embed/) keys it by its path.
  const HOME = location.pathname.replace(/embed\/?$/, "");
  const KEY = HOME === "/" ? "faq-chat:v1" : "faq-chat:v1:" + HOME;
  const MAX_TURNS = 50; // older exchanges leave the page so one tab cannot grow forever
  const GREETING_CHARS = 200;
  const SUGGESTION_CHARS = 120;
  const MAX_SUGGESTIONS = 6;
  const ABSTAIN_TIP = "Try asking in other words, or pick one of the suggested questions.";
  const LOST = "Lost the connection to the assistant. Check your connection and try again.";
  const SORRY = "Sorry, something went wrong on my side. Please try again in a moment.";
  const CITE = /\[(\d{1,3})\]/g;
  const SVG = "http://www.w3.org/2000/svg";
  const THUMB = "M14 9V5a3 3 0 0 0-3-3l-4 9v11h11.3a2 2 0 0 0 2-1.7l1.4-9a2 2 0 0 0-2-2.3zM7 22H4a2 2 0 0 1-2-2v-7a2 2 0 0 1 2-2h3";
  const api = (path) => new URL("../api/" + path, location.href).href;

  const $ = (id) => document.getElementById(id);
  const log = $("log"), turnsList = $("turns"), intro = $("intro"), form = $("ask");
  const input = $("question"), sendButton = $("send");
  input.focus(); // first of all: the launcher's click is waiting for it
  const config = readConfig();
  const params = new URLSearchParams(location.search);
  // The college page the launcher is on (its origin), for the web team's question log.
  const site = /^https?:\/\/[^\/?#\s]{1,190}$/.test(params.get("site") || "") ? params.get("site") : "";
  // The page's own greeting and questions (the widget tag's data attributes) win.
  const greeting = oneLine(params.get("greeting"), GREETING_CHARS) ||
    oneLine(config.greeting, GREETING_CHARS);
  const asked = suggestionList((params.get("suggestions") || "").split("|"));
  const suggestions = asked.length ? asked : suggestionList(config.suggestions);
  const framed = window.parent !== window;
  const parentOrigin = framed ? ancestorOrigin() : "";
  const local = storageWorks();
  let state = load(local ? sessionStorage.getItem(KEY) : null);
  let pending = null; // the AbortController of the question being answered

  // ------------------------------------------------------------------ config and storage
  function readConfig() {
    let raw = {};
    try { raw = JSON.parse($("faq-config").textContent) || {}; } catch (e) { /* unfilled */ }
    const int = (v, d) => (Number.isInteger(v) && v > 0 ? v : d);
    return {
      greeting: typeof raw.greeting === "string" ? raw.greeting : "",
      placeholder: typeof raw.placeholder === "string" ? raw.placeholder : "",
      suggestions: Array.isArray(raw.suggestions) ? raw.suggestions : [],
      maxChars: int(raw.max_question_chars, 2000),
      maxHistory: int(raw.max_history_turns, 20),
    };
  }

  /** Text as one printable line of at most `limit` characters. */
  function oneLine(text, limit) {
    const flat = String(text || "").replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, " ");
    return Array.from(flat.split(/\s+/).filter(Boolean).join(" ")).slice(0, limit).join("");
  }

  function suggestionList(items) {
    return items.filter((q) => typeof q === "string").map((q) => oneLine(q, SUGGESTION_CHARS))
      .filter(Boolean).slice(0, MAX_SUGGESTIONS);
  }

  function newSession() {
    try { return crypto.randomUUID(); } catch (e) { /* not a secure context */ }
    let hex = "";
    while (hex.length < 32) hex += Math.floor(Math.random() * 16).toString(16);
    return hex;
  }

  function fresh() { return { session: newSession(), next: 0, toldCap: false, turns: [] }; }

  function ancestorOrigin() {
    try { if (location.ancestorOrigins && location.ancestorOrigins.length) return location.ancestorOrigins[0]; } catch (e) { /* none */ }
    try { return new URL(document.referrer).origin; } catch (e) { return ""; }
  }

  function storageWorks() {
    try { sessionStorage.getItem(KEY); return true; } catch (e) { return false; }
  }

  /** The stored chat, checked field by field (a hand-edited entry must not break the page). */
  function load(raw) {
    try {
      const s = JSON.parse(raw);
      if (!s || typeof s.session !== "string" || !/^[\w-]{1,64}$/.test(s.session)) return fresh();
      const turns = (Array.isArray(s.turns) ? s.turns : []).filter((t) => t &&
        Number.isInteger(t.id) && typeof t.question === "string").map((t) => ({
        id: t.id,
        question: t.question,
        answer: typeof t.answer === "string" ? t.answer : "",
        citations: Array.isArray(t.citations) ? t.citations.map(citation) : [],
        abstained: t.abstained === true,
        vote: typeof t.vote === "boolean" ? t.vote : null,
        notice: typeof t.notice === "string" ? t.notice : undefined,
        capped: t.capped === true,
      })).slice(-MAX_TURNS);
      const next = Math.max(Number.isInteger(s.next) ? s.next : 0, ...turns.map((t) => t.id + 1));
      return { session: s.session, next, toldCap: s.toldCap === true, turns };
    } catch (e) {
      return fresh();
    }
  }

  function save() {
    const value = JSON.stringify(state);
    if (local) {
      try { sessionStorage.setItem(KEY, value); } catch (e) { /* full: the page still works */ }
    } else if (parentOrigin && parentOrigin !== "null") {
      // Framed by another site, browsers that block third-party storage give this page
      // none: the launcher keeps the chat in the college page's sessionStorage instead.
      window.parent.postMessage({ type: "faq-widget-store", value }, parentOrigin);
    }
  }

  function citation(c) {
    const text = (v) => (typeof v === "string" ? v : "");
    c = c && typeof c === "object" ? c : {};
    return { n: Number.isInteger(c.n) ? c.n : 0, source: text(c.source), section: text(c.section),
      quote: text(c.quote), url: text(c.url), pages: text(c.pages) };
  }

  /** Earlier answered turns, oldest first, as the API takes them. */
  function historyOf(turns) {
    return turns.filter((t) => t.notice === undefined).flatMap((t) => [
      { role: "user", content: t.question }, { role: "assistant", content: t.answer }]);
  }

  // ------------------------------------------------------------------ building nodes
  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function answerText(text, citations) {
    const numbers = new Set(citations.map((c) => c.n));
    const box = el("div", "faq-answer");
    let at = 0;
    for (const m of text.matchAll(CITE)) {
      if (!numbers.has(Number(m[1]))) continue; // brackets that point nowhere stay text
      box.append(text.slice(at, m.index));
      const sup = el("sup", "faq-cite", m[0]);
      sup.title = "Source " + Number(m[1]);
      box.append(sup);
      at = m.index + m[0].length;
    }
    box.append(text.slice(at));
    return box;
  }

  function sources(citations) {
    const details = el("details", "faq-sources");
    details.append(el("summary", "", citations.length === 1 ? "Source" : `Sources (${citations.length})`));
    const list = el("ol", "faq-src-list");
    for (const c of citations) {
      const item = el("li");
      const where = c.source + (c.pages ? ", p. " + c.pages : "");
      const file = el("span", "faq-src-file", "· ");
      if (/^https?:\/\//i.test(c.url)) { // never a javascript: or data: address
        const link = el("a", "", where);
        link.href = c.url;
        link.target = "_blank";
        link.rel = "noopener noreferrer";
        file.append(link);
      } else {
        file.append(where);
      }
      item.append(el("span", "faq-src-n", `[${c.n}]`), " ",
        el("span", "faq-src-section", c.section || "(no section)"), " ", file,
        el("blockquote", "faq-quote", c.quote));
      list.append(item);
    }
    details.append(list);
    return details;
  }

  function suggestionButtons(cls) {
    const list = el("ul", cls);
    list.setAttribute("aria-label", "Suggested questions");
    for (const q of suggestions) {
      const button = el("button", "suggestion", q);
      button.type = "button";
      button.addEventListener("click", () => ask(q));
      const item = el("li");
      item.append(button);
      list.append(item);
    }
    return list;
  }

  function thumb() {
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("d", THUMB);
    svg.append(path);
    return svg;
  }

  function votes(turn) {
    const box = el("div", "votes");
    const buttons = [[true, "Helpful"], [false, "Not helpful"]].map(([liked, label]) => {
      const button = el("button", liked ? "vote up" : "vote down");
      button.type = "button";
      button.title = label;
      button.setAttribute("aria-label", label);
      button.append(thumb());
      button.addEventListener("click", () => vote(turn, liked, paint));
      return button;
    });
    const paint = () => buttons.forEach((b, i) => b.setAttribute("aria-pressed", String(turn.vote === (i === 0))));
    paint();
    box.append(...buttons);
    return box;
  }

  function notice(text) {
    const box = el("div", "faq-notice", text);
    box.setAttribute("role", "note");
    return box;
  }

  /** The assistant's side of a finished turn: answer and sources, abstention, or notice. */
  function fillReply(reply, turn) {
    reply.replaceChildren(el("span", "sr-only", "Assistant: "));
    if (turn.notice !== undefined) {
      reply.append(notice(turn.notice));
      return;
    }
    if (turn.abstained) {
      const box = el("div", "faq-abstain");
      box.setAttribute("role", "note");
      box.append(el("p", "", turn.answer), el("p", "faq-muted", ABSTAIN_TIP));
      if (suggestions.length) box.append(suggestionButtons("suggestions"));
      reply.append(box);
    } else {
      reply.append(answerText(turn.answer, turn.citations));
      if (turn.citations.length) reply.append(sources(turn.citations));
    }
    reply.append(votes(turn));
    if (turn.capped) {
      reply.append(notice(`For follow-up questions I use only the last ${config.maxHistory} ` +
        "messages of this chat. Use \u201cClear chat\u201d to start a new topic."));
    }
  }

  function turnNode(turn) {
    const item = el("li", "turn");
    const question = el("div", "faq-question");
    question.append(el("span", "sr-only", "You: "), turn.question);
    const reply = el("div", "reply");
    item.append(question, reply);
    return item;
  }

  function render() {
    turnsList.replaceChildren();
    for (const turn of state.turns) {
      const item = turnNode(turn);
      fillReply(item.lastChild, turn);
      turnsList.append(item);
    }
    intro.hidden = state.turns.length > 0;
    log.scrollTop = log.scrollHeight;
  }

  // ------------------------------------------------------------------ talking to the server
  /** Why a question was not answered, in the words SPEC.md gives for each status. */
  async function refusal(response) {
    let body = {};
    try { body = await response.json(); } catch (e) { /* not JSON */ }
    const header = parseInt(response.headers.get("Retry-After") || "", 10);
    const wait = header >= 0 ? header : Number.isInteger(body.retry_after) ? body.retry_after : 60;
    const seconds = `${wait} second${wait === 1 ? "" : "s"}`;
    if (response.status === 429) return `You've asked a lot of questions; try again in ${seconds}.`;
    if (response.status === 503) return `The assistant is busy right now; try again in ${seconds}.`;
    if (response.status === 400 && typeof body.error === "string" && body.error) return body.error;
    return SORRY;
  }

  /** One server-sent event block → {event, data} (data parsed as JSON), or null. */
  function parseEvent(block) {
    let event = "message";
    const data = [];
    for (const line of block.split(/\r\n|\r|\n/)) {
      if (!line || line[0] === ":") continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "event") event = value;
      else if (field === "data") data.push(value);
    }
    try { return { event, data: JSON.parse(data.join("\n")) }; } catch (e) { return null; }
  }

  /** POST the question; resolves to {answer} or {notice}. EventSource cannot POST, so the
   * stream is read by hand: blocks separated by a blank line. */
  async function fetchAnswer(question, history, turn, signal, onToken) {
    const response = await fetch(api("chat"), {
      method: "POST", signal, cache: "no-store",
      headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
      body: JSON.stringify({ question, history, session: state.session, turn, site }),
    });
    if (!response.ok) return { notice: await refusal(response) };
    if (!response.body) return { notice: LOST };
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    const handle = (block) => {
      const ev = parseEvent(block);
      const data = ev && ev.data && typeof ev.data === "object" ? ev.data : null;
      if (!data) return null;
      if (ev.event === "token" && typeof data.text === "string") onToken(data.text);
      if (ev.event === "answer" && typeof data.answer === "string") return { answer: data };
      if (ev.event === "error") return { notice: typeof data.error === "string" && data.error ? data.error : SORRY };
      return null;
    };
    for (;;) {
      const { value, done } = await reader.read();
      buffer += decoder.decode(value, { stream: !done });
      const blocks = buffer.split(/\r?\n\r?\n/);
      buffer = done ? "" : blocks.pop();
      for (const block of blocks) {
        const result = handle(block);
        if (result) {
          reader.cancel().catch(() => {});
          return result;
        }
      }
      if (done) return { notice: LOST }; // cut before the answer
    }
  }

  async function ask(text) {
    const question = String(text || "").trim();
    if (!question || pending) return;
    const history = historyOf(state.turns);
    const turn = { id: state.next++, question, answer: "", citations: [], abstained: false, vote: null };
    input.value = "";
    intro.hidden = true;
    const item = turnNode(turn);
    const reply = item.lastChild;
    const typing = el("span", "typing");
    typing.append(el("span", "sr-only", "Composing an answer"), el("i"), el("i"), el("i"));
    reply.append(el("span", "sr-only", "Assistant: "), typing);
    reply.setAttribute("aria-busy", "true");
    turnsList.append(item);
    log.scrollTop = log.scrollHeight;
    sendButton.setAttribute("aria-disabled", "true");
    const controller = (pending = new AbortController());
    let draft = null;
    const onToken = (piece) => {
      if (!draft) {
        draft = el("div", "faq-answer provisional");
        typing.replaceWith(draft);
      }
      draft.append(piece);
      log.scrollTop = log.scrollHeight;
    };
    let result;
    try {
      result = await fetchAnswer(question, history.slice(-config.maxHistory), turn.id, controller.signal, onToken);
    } catch (e) {
      result = { notice: LOST };
    }
    if (controller.signal.aborted) return; // the chat was cleared meanwhile
    pending = null;
    sendButton.removeAttribute("aria-disabled");
    if (result.notice !== undefined) {
      turn.notice = result.notice;
      if (!input.value) input.value = question; // nothing the user typed is lost
    } else {
      const a = result.answer;
      turn.answer = a.answer;
      turn.abstained = a.abstained === true;
      turn.citations = Array.isArray(a.citations) ? a.citations.map(citation) : [];
      if (history.length > config.maxHistory && !state.toldCap) turn.capped = state.toldCap = true;
    }
    state.turns.push(turn);
    while (state.turns.length > MAX_TURNS) {
      state.turns.shift();
      turnsList.firstChild.remove();
    }
    save();
    fillReply(reply, turn);
    reply.removeAttribute("aria-busy");
    // A long answer is read from its start; a short one keeps the chat scrolled to the end.
    log.scrollTop = item.offsetHeight > log.clientHeight ? item.offsetTop : log.scrollHeight;
    input.focus();
  }

  async function vote(turn, liked, paint) {
    if (turn.vote === liked) return;
    const before = turn.vote;
    turn.vote = liked;
    paint();
    save();
    let ok = false;
    try {
      const response = await fetch(api("feedback"), {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({
          session: state.session, turn: turn.id, question: turn.question,
          answer: turn.answer.slice(0, 8000), abstained: turn.abstained, liked,
          citations: turn.citations.slice(0, 20)
            .map((c) => ({ n: c.n, source: c.source, section: c.section, quote: c.quote })),
        }),
      });
      ok = response.ok;
    } catch (e) { /* offline: shown as not recorded */ }
    if (!ok && turn.vote === liked) { // not recorded: do not pretend it was
      turn.vote = before;
      paint();
      save();
    }
  }

  function clear() {
    if (pending) pending.abort();
    pending = null;
    sendButton.removeAttribute("aria-disabled");
    state = fresh();
    save();
    input.value = "";
    render();
    input.focus();
  }

  // ------------------------------------------------------------------ wiring
  $("greeting").textContent = greeting;
  const starters = suggestionButtons("suggestions");
  starters.hidden = !suggestions.length;
  $("suggestions").replaceWith(starters);
  input.placeholder = config.placeholder;
  input.maxLength = config.maxChars;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    ask(input.value);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      ask(input.value);
    }
  });
  $("clear").addEventListener("click", clear);
  document.addEventListener("keydown", (event) => {
    // Inside the widget's iframe, Esc asks the launcher (another origin) to close the panel.
    if (event.key === "Escape" && framed) window.parent.postMessage({ type: "faq-widget-close" }, "*");
  });
  window.addEventListener("message", (event) => {
    const msg = event.source === window.parent && event.data;
    if (!msg) return;
    if (msg.type === "faq-widget-focus") input.focus();
    // The launcher's copy of this chat (see save), taken only before anything is asked here.
    if (msg.type === "faq-widget-restore" && event.origin === parentOrigin && !local &&
        typeof msg.value === "string" && !state.turns.length && !pending) {
      state = load(msg.value);
      render();
    }
  });
  if (!local && parentOrigin) window.parent.postMessage({ type: "faq-widget-ready" }, parentOrigin);
  render();
})();
