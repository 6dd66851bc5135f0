/*
 * Ajira web chat widget. Embed it with one tag:
 *
 *   <script src="https://hr.example.co.ke/widget.js" async></script>
 *
 * Attributes on that tag (all optional):
 *   data-ajira-url        the Ajira server (default: where this script was loaded from)
 *   data-token-provider   name of a global function returning an access token, or a promise
 *                         of one (a string, or {access_token, expires_in}): single sign-on
 *   data-open="true"      start with the chat open
 *   data-title            the panel's title (default "Ajira HR chat")
 *
 * The page can also call window.Ajira.open(), .close(), .setToken(token, expiresInSeconds),
 * .setTokenProvider(fn) and .logout().
 *
 * Tokens are kept in this script's memory only: never in a URL, a cookie or web storage,
 * so a reload asks to sign in again (or asks the token provider).
 */
(() => {
  "use strict";
  if (window.Ajira && window.Ajira.version) return; // the tag is on the page twice

  const script = document.currentScript || document.querySelector('script[src*="widget.js"]');
  const attr = (name) => (script && script.getAttribute(name)) || "";
  const server = attr("data-ajira-url") || new URL(script.src, location.href).origin;
  const base = server.replace(/\/+$/, "");
  const title = attr("data-title") || "Ajira HR chat";
  const RENEW_MARGIN_MS = 30000;

  const CSS = `
:host { all: initial; }
* { box-sizing: border-box; }
.root { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2933; }
button, input, textarea { font: inherit; }
:focus-visible { outline: 3px solid #f0a202; outline-offset: 2px; }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.launcher { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000; border: 0;
  border-radius: 28px; padding: 14px 20px; background: #0b5d57; color: #fff; font-weight: 600;
  cursor: pointer; box-shadow: 0 4px 14px rgba(0,0,0,.25); }
.launcher:hover { background: #08473f; }
.badge { display: inline-block; min-width: 1.4em; margin-left: .5em; padding: 0 .35em;
  border-radius: 1em; background: #c2410c; color: #fff; font-size: .8em; text-align: center; }
.badge[hidden], [hidden] { display: none !important; }
.panel { position: fixed; right: 20px; bottom: 20px; z-index: 2147483001; width: 380px;
  height: min(620px, calc(100vh - 40px)); display: flex; flex-direction: column; background: #fff;
  border-radius: 12px; box-shadow: 0 8px 30px rgba(0,0,0,.3); overflow: hidden; }
header { display: flex; align-items: center; gap: 8px; padding: 12px 14px; background: #0b5d57; color: #fff; }
header h2 { flex: 1; margin: 0; font-size: 1.05em; }
header button { border: 1px solid rgba(255,255,255,.6); background: transparent; color: #fff;
  border-radius: 6px; padding: 4px 10px; cursor: pointer; }
.body { flex: 1; overflow-y: auto; padding: 12px; background: #f5f7f6; }
.log { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 8px; }
.msg { max-width: 85%; padding: 8px 12px; border-radius: 12px; white-space: pre-wrap; overflow-wrap: anywhere; }
.user { align-self: flex-end; background: #0b5d57; color: #fff; }
.assistant { align-self: flex-start; background: #fff; border: 1px solid #d5dedb; }
.notice { align-self: stretch; background: #fff7e6; border: 1px solid #f0c36d; }
.error { align-self: stretch; background: #fdecec; border: 1px solid #e5a1a1; color: #7a1c1c; }
.typing .text:empty::after { content: "…"; }
.choices { display: flex; gap: 8px; margin-top: 8px; }
.choices button, form button { border: 0; border-radius: 6px; padding: 8px 14px; cursor: pointer;
  background: #0b5d57; color: #fff; font-weight: 600; }
.choices button.no { background: #fff; color: #0b5d57; border: 1px solid #0b5d57; }
button:disabled { opacity: .55; cursor: default; }
.cites { margin: 8px 0 0; padding-left: 1.2em; font-size: .88em; color: #3e4c59; white-space: normal; }
.status { font-size: .85em; color: #52606d; margin: 0; padding: 2px 14px; min-height: 1.6em; background: #f5f7f6; }
form.compose { display: flex; gap: 8px; padding: 10px 12px; border-top: 1px solid #d5dedb; }
textarea { flex: 1; resize: none; border: 1px solid #9aa5b1; border-radius: 6px; padding: 8px; max-height: 8em; }
form.login { display: flex; flex-direction: column; gap: 6px; padding: 4px; }
form.login input { border: 1px solid #9aa5b1; border-radius: 6px; padding: 8px; }
form.login .err { color: #7a1c1c; margin: 0; min-height: 1.2em; }
@media (max-width: 480px) {
  .panel { inset: 0; width: 100%; height: 100%; border-radius: 0; }
  .launcher { right: 12px; bottom: 12px; }
}`;

  const HTML = `
<div class="root">
  <button class="launcher" type="button" aria-expanded="false" aria-controls="aj-panel">
    Chat with HR<span class="badge" hidden></span></button>
  <section class="panel" id="aj-panel" role="dialog" aria-modal="false" aria-labelledby="aj-title" hidden>
    <header><h2 id="aj-title"></h2>
      <button type="button" class="logout" hidden>Sign out</button>
      <button type="button" class="close" aria-label="Close chat">✕</button></header>
    <div class="body">
      <form class="login" hidden novalidate>
        <p>Sign in with your work email or phone number.</p>
        <label for="aj-login">Email or phone</label>
        <input id="aj-login" name="login" autocomplete="username" required>
        <label for="aj-password">Password</label>
        <input id="aj-password" name="password" type="password" autocomplete="current-password" required>
        <p class="err" role="alert"></p>
        <button type="submit">Sign in</button>
      </form>
      <ol class="log" aria-label="Conversation" hidden></ol>
    </div>
    <p class="status" aria-hidden="true"></p>
    <form class="compose" hidden>
      <label for="aj-message" class="sr">Message</label>
      <textarea id="aj-message" rows="2" placeholder="Type a message…" maxlength="4000"></textarea>
      <button type="submit">Send</button>
    </form>
    <div class="sr live" aria-live="polite"></div>
  </section>
</div>`;

  // ---------------------------------------------------------------- the DOM

  const host = document.createElement("div");
  host.setAttribute("data-ajira-widget", "");
  const root = host.attachShadow({ mode: "open" });
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(CSS); // a constructed sheet: no inline <style> for the page's CSP to refuse
  root.adoptedStyleSheets = [sheet];
  root.innerHTML = HTML;
  const $ = (selector) => root.querySelector(selector);
  const launcher = $(".launcher");
  const badge = $(".badge");
  const panel = $(".panel");
  const loginForm = $("form.login");
  const loginError = $(".login .err");
  const log = $(".log");
  const compose = $("form.compose");
  const input = $("#aj-message");
  const sendButton = $("form.compose button");
  const status = $(".status");
  const scroller = $(".body");
  const live = $(".live");
  const logoutButton = $(".logout");
  $("#aj-title").textContent = title;

  const el = (tag, className, text) => {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  };

  function addMessage(kind, text) {
    const item = el("li", `msg ${kind}`);
    item.append(el("span", "text", text));
    log.append(item);
    scrollDown();
    return item;
  }

  function scrollDown() {
    scroller.scrollTop = scroller.scrollHeight;
  }

  function announce(text) {
    live.textContent = "";
    // A fresh node each time, so that repeating the same words is announced again.
    setTimeout(() => live.append(el("p", "", text)), 50);
  }

  // ---------------------------------------------------------------- tokens

  class SignedOut extends Error {}
  const auth = { access: null, refresh: null, expiresAt: 0, provider: null };
  let renewing = null;

  function jwtExpiry(token) {
    try {
      const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      return JSON.parse(atob(part)).exp * 1000;
    } catch {
      return Date.now() + 5 * 60000;
    }
  }

  function keep(tokens) {
    if (typeof tokens === "string") tokens = { access_token: tokens };
    auth.access = tokens.access_token;
    if (tokens.refresh_token) auth.refresh = tokens.refresh_token;
    auth.expiresAt = tokens.expires_in
      ? Date.now() + tokens.expires_in * 1000
      : jwtExpiry(tokens.access_token);
  }

  async function renew() {
    if (!renewing) renewing = tryRenew().finally(() => (renewing = null));
    return renewing;
  }

  async function tryRenew() {
    if (auth.refresh) {
      // Offline or overloaded, the error goes up and the refresh token is kept for later.
      const res = await call("/api/v1/auth/refresh", { body: { refresh_token: auth.refresh } });
      if (res.ok) return keep(await res.json()), true;
      if (res.status !== 401) throw new Error(`refresh answered ${res.status}`);
      auth.refresh = null; // spent or revoked
    }
    if (auth.provider) {
      try {
        const given = await auth.provider();
        if (given) return keep(given), true;
      } catch {
        /* the host page could not give one: sign in by hand */
      }
    }
    auth.access = null;
    return false;
  }

  async function accessToken() {
    if (auth.access && Date.now() < auth.expiresAt - RENEW_MARGIN_MS) return auth.access;
    if (await renew()) return auth.access;
    throw new SignedOut();
  }

  function call(path, { method = "POST", body, token, headers = {}, signal } = {}) {
    const sent = { Accept: "application/json, text/event-stream", ...headers };
    if (body !== undefined) sent["Content-Type"] = "application/json";
    if (token) sent.Authorization = `Bearer ${token}`;
    return fetch(base + path, {
      method,
      headers: sent,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
      signal,
    });
  }

  // A call as the signed-in person; after a 401 the token is renewed and the call tried once more.
  async function authed(path, options = {}) {
    let token;
    try {
      token = await accessToken();
    } catch (error) {
      if (error instanceof SignedOut) signedOut("Please sign in to continue.");
      throw error;
    }
    let res = await call(path, { ...options, token });
    if (res.status === 401) {
      auth.expiresAt = 0;
      if (await renew()) res = await call(path, { ...options, token: auth.access });
    }
    if (res.status === 401) {
      signedOut("Your session has ended. Please sign in again.");
      throw new SignedOut();
    }
    return res;
  }

  async function problemText(res) {
    const detail = await res.json().then((problem) => problem.detail || "", () => "");
    if (res.status === 429) {
      const wait = parseInt(res.headers.get("Retry-After") || "", 10);
      const when = wait > 0 ? `in ${wait} second${wait === 1 ? "" : "s"}` : "in a moment";
      return `${detail || "You are sending messages quickly."} Please try again ${when}.`;
    }
    if (res.status >= 500) return detail || "Ajira is unavailable for a moment. Please try again shortly.";
    return detail || `Something went wrong (${res.status}). Please try again.`;
  }

  // ---------------------------------------------------------------- server-sent events

  // EventSource can neither POST nor send an Authorization header, so events are read by hand.
  async function readEvents(res, onEvent) {
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value.replace(/\r\n?/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = "message";
        let id = null;
        const data = [];
        for (const line of block.split("\n")) {
          if (!line || line.startsWith(":")) continue;
          const colon = line.indexOf(":");
          const field = colon < 0 ? line : line.slice(0, colon);
          const text = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
          if (field === "event") event = text;
          else if (field === "data") data.push(text);
          else if (field === "id") id = text;
        }
        if (!data.length) continue;
        let parsed;
        try {
          parsed = JSON.parse(data.join("\n"));
        } catch {
          continue;
        }
        onEvent(event, parsed, id);
      }
    }
  }

  // ---------------------------------------------------------------- chat

  let conversationId = null;
  let busy = false;

  function setBusy(value) {
    busy = value;
    sendButton.disabled = value;
    input.setAttribute("aria-busy", String(value));
    if (!value) status.textContent = "";
  }

  function renderReply(item, done) {
    item.querySelector(".text").textContent = done.reply;
    item.classList.remove("typing");
    if (done.citations && done.citations.length) {
      const list = el("ol", "cites");
      list.setAttribute("aria-label", "Sources");
      for (const cite of done.citations) {
        const where = [cite.document_title, ...(cite.heading_path || [])].join(" › ");
        const note = el("li", "", `[${cite.number}] ${where}: “${cite.quote}”`);
        note.value = cite.number;
        list.append(note);
      }
      item.append(list);
    }
    const pending = done.pending_confirmation;
    if (pending) {
      const group = el("div", "choices");
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", pending.question || pending.summary);
      const answers = [[pending.yes, "yes"], [pending.no, "no"]];
      for (const [label, kind] of answers) {
        const button = el("button", kind, label);
        button.type = "button";
        button.addEventListener("click", () => {
          if (busy) return;
          send(label);
          input.focus();
        });
        group.append(button);
      }
      item.append(group);
    }
    scrollDown();
    announce(`Ajira: ${done.reply}`);
  }

  async function send(text) {
    text = text.trim();
    if (!text || busy) return;
    setBusy(true);
    for (const button of log.querySelectorAll(".choices button")) button.disabled = true;
    addMessage("user", text);
    const reply = addMessage("assistant typing", "");
    let done = null;
    let failure = null;
    try {
      const body = { message: text };
      if (conversationId) body.conversation_id = conversationId;
      const res = await authed("/api/v1/chat/stream", { body });
      if (!res.ok) {
        failure = await problemText(res);
      } else {
        await readEvents(res, (event, data) => {
          if (event === "token") {
            reply.querySelector(".text").textContent += data.text;
            scrollDown();
          } else if (event === "tool") {
            status.textContent = data.status === "pending" ? "Waiting for your answer…" : "Working…";
          } else if (event === "done") done = data;
          else if (event === "error") failure = data.detail || "Something went wrong.";
        });
      }
    } catch (error) {
      if (error instanceof SignedOut) {
        reply.remove();
        setBusy(false);
        return;
      }
      failure = "Could not reach Ajira. Check your connection and try again.";
    }
    if (done) {
      conversationId = done.conversation_id;
      renderReply(reply, done);
    } else {
      reply.remove();
      failure = failure || "The answer was cut off. Please try again.";
      addMessage("error", failure);
      announce(failure);
      if (!input.value) input.value = text; // nothing was lost: send it again when ready
    }
    setBusy(false);
  }

  compose.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value;
    if (busy || !text.trim()) return;
    input.value = "";
    send(text);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      compose.requestSubmit();
    }
  });

  // ---------------------------------------------------------------- notifications

  let unseen = 0;
  let listening = null;
  let lastEventId = null;

  function updateBadge() {
    badge.hidden = unseen === 0;
    badge.textContent = String(unseen);
    launcher.setAttribute(
      "aria-label",
      unseen ? `Chat with HR, ${unseen} new notification${unseen === 1 ? "" : "s"}` : "Chat with HR",
    );
  }

  function notice(data) {
    addMessage("notice", data.text);
    if (panel.hidden) unseen += 1;
    updateBadge();
    announce(`Notification: ${data.text}`);
  }

  // One stream while signed in; it reconnects after a drop, resuming from the last id seen.
  async function listen() {
    if (listening) return;
    const controller = (listening = new AbortController());
    let delay = 1000;
    while (!controller.signal.aborted && (auth.access || auth.refresh || auth.provider)) {
      try {
        const headers = lastEventId ? { "Last-Event-ID": lastEventId } : {};
        const res = await authed("/api/v1/notifications/stream", {
          method: "GET",
          headers,
          signal: controller.signal,
        });
        if (res.ok) {
          await readEvents(res, (event, data, id) => {
            if (event === "ready") delay = 1000;
            else if (event === "notification") {
              if (id) lastEventId = id;
              notice(data);
            } else if (event === "error" && data.status === 401) auth.expiresAt = 0;
          });
        } else if (res.status === 403 || res.status === 404) {
          break; // this account has no in-app notifications
        }
      } catch (error) {
        if (error instanceof SignedOut || controller.signal.aborted) break;
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 30000);
    }
    if (listening === controller) listening = null;
  }

  function stopListening() {
    if (listening) listening.abort();
    listening = null;
  }

  // ---------------------------------------------------------------- sign in and out

  function signedIn() {
    loginForm.hidden = true;
    log.hidden = false;
    compose.hidden = false;
    logoutButton.hidden = !auth.refresh;
    if (!panel.hidden) input.focus();
    listen();
  }

  function signedOut(message) {
    auth.access = null;
    auth.refresh = null;
    auth.expiresAt = 0;
    stopListening();
    compose.hidden = true;
    logoutButton.hidden = true;
    // Another person may use this computer next: the conversation goes with the session.
    log.replaceChildren();
    log.hidden = true;
    conversationId = null;
    lastEventId = null;
    loginForm.hidden = false;
    loginError.textContent = message || "";
    if (!panel.hidden) $("#aj-login").focus();
  }

  loginForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const login = loginForm.elements.login.value.trim();
    const password = loginForm.elements.password.value;
    if (!login || !password) {
      loginError.textContent = "Enter your email or phone number and your password.";
      return;
    }
    const button = loginForm.querySelector("button");
    button.disabled = true;
    loginError.textContent = "";
    try {
      const res = await call("/api/v1/auth/login", { body: { login, password } });
      if (res.ok) {
        keep(await res.json());
        loginForm.reset();
        signedIn();
      } else if (res.status === 401) {
        loginError.textContent = "That email or phone and password do not match. Try again.";
      } else {
        loginError.textContent = await problemText(res);
      }
    } catch {
      loginError.textContent = "Could not reach Ajira. Check your connection and try again.";
    }
    button.disabled = false;
  });

  async function logout() {
    const refresh = auth.refresh;
    signedOut("You have signed out.");
    // Unreachable now, the session still ends when its tokens expire.
    if (refresh) await call("/api/v1/auth/logout", { body: { refresh_token: refresh } }).catch(() => {});
  }
  logoutButton.addEventListener("click", logout);

  // ---------------------------------------------------------------- open and close

  function open() {
    panel.hidden = false;
    launcher.hidden = true;
    launcher.setAttribute("aria-expanded", "true");
    unseen = 0;
    updateBadge();
    scrollDown();
    (compose.hidden ? $("#aj-login") : input).focus();
  }

  function close() {
    panel.hidden = true;
    launcher.hidden = false;
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
  }

  launcher.addEventListener("click", open);
  $(".close").addEventListener("click", close);
  // Full screen on a phone, the panel is modal: Tab cycles inside it instead of reaching
  // the page hidden behind. On a wide screen the page beside it stays reachable.
  const phone = window.matchMedia("(max-width: 480px)");
  const syncModal = () => panel.setAttribute("aria-modal", String(phone.matches));
  phone.addEventListener("change", syncModal);
  syncModal();

  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.stopPropagation();
      close();
    } else if (event.key === "Tab" && phone.matches) {
      const stops = [...panel.querySelectorAll("button, input, textarea")].filter(
        (node) => !node.disabled && node.offsetParent !== null,
      );
      const [first, last] = [stops[0], stops[stops.length - 1]];
      if (event.shiftKey && root.activeElement === first) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && root.activeElement === last) {
        event.preventDefault();
        first.focus();
      }
    }
  });

  async function start() {
    document.body.append(host);
    updateBadge();
    const providerName = attr("data-token-provider");
    if (!auth.provider && providerName && typeof window[providerName] === "function") {
      auth.provider = () => window[providerName]();
    }
    if (auth.access || (await renew().catch(() => false))) signedIn();
    else signedOut();
    if (attr("data-open") === "true") open();
  }

  window.Ajira = Object.freeze({
    version: "1",
    open,
    close,
    logout,
    setToken(token, expiresIn) {
      keep({ access_token: token, expires_in: expiresIn });
      signedIn();
    },
    setTokenProvider(provider) {
      auth.provider = provider;
      if (!auth.access) renew().then((ok) => ok && signedIn(), () => {});
    },
  });

  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start, { once: true });
})();
