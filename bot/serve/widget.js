/* FAQ assistant launcher. One tag on any page:
 *   <script src="https://HOST/widget.js" data-title="Ask a question" data-color="#003366"
 *           data-position="right" data-greeting="Hi! Ask me about admissions."
 *           data-suggestions="How do I apply?|What does it cost?" defer></script>
 * Everything lives in a shadow root, so the host page's styles and globals are never
 * touched; the only global is window.FaqWidget (open/close/toggle). */
(function () {
  "use strict";
  if (window.FaqWidget) return;
  var script = document.currentScript;
  if (!script) return;
  var base = new URL(script.src, location.href);
  var data = script.dataset || {};
  var title = data.title || __DEFAULT_TITLE__;
  var color = /^#[0-9a-fA-F]{3,8}$/.test(data.color || "") ? data.color : "#003366";
  var side = data.position === "left" ? "left" : "right";
  // The assistant's address without the file: its origin, plus /s/<name> for one site of
  // several, so that two sites' widgets keep their own state on the same college page.
  var home = new URL(".", base).href.replace(/\/$/, "");
  var key = "faq-widget-open:" + home;

  var host = document.createElement("div");
  host.setAttribute("data-faq-widget", "");
  var root = host.attachShadow({ mode: "open" });
  var css = document.createElement("style");
  css.textContent =
    ":host{all:initial}" +
    ".launch{position:fixed;bottom:20px;" + side + ":20px;z-index:2147483000;border:0;" +
    "border-radius:28px;padding:14px 20px;font:600 15px system-ui,sans-serif;color:#fff;" +
    "background:" + color + ";box-shadow:0 4px 14px rgba(0,0,0,.25);cursor:pointer}" +
    ".launch:focus-visible,.close:focus-visible{outline:3px solid #ffbf47;outline-offset:2px}" +
    ".panel{position:fixed;bottom:84px;" + side + ":20px;z-index:2147483000;width:min(420px,calc(100vw - 40px));" +
    "height:min(640px,calc(100vh - 110px));display:none;flex-direction:column;background:#fff;" +
    "border-radius:12px;overflow:hidden;box-shadow:0 8px 30px rgba(0,0,0,.3)}" +
    ".panel.open{display:flex}" +
    ".bar{display:flex;align-items:center;justify-content:space-between;padding:8px 12px;" +
    "background:" + color + ";color:#fff;font:600 15px system-ui,sans-serif}" +
    ".close{border:0;background:transparent;color:#fff;font-size:22px;line-height:1;cursor:pointer}" +
    "iframe{flex:1;border:0;width:100%}";
  var button = document.createElement("button");
  button.className = "launch";
  button.type = "button";
  button.textContent = title;
  button.setAttribute("aria-expanded", "false");
  button.setAttribute("aria-controls", "faq-widget-panel");
  var panel = document.createElement("div");
  panel.className = "panel";
  panel.id = "faq-widget-panel";
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", title);
  var bar = document.createElement("div");
  bar.className = "bar";
  var heading = document.createElement("span");
  heading.textContent = title;
  var close = document.createElement("button");
  close.className = "close";
  close.type = "button";
  close.setAttribute("aria-label", "Close " + title);
  close.textContent = "\u00d7";
  bar.appendChild(heading);
  bar.appendChild(close);
  panel.appendChild(bar);
  var frame = null;
  var frameLoaded = false;

  // The chat loads only once the visitor shows intent (pointer over or focus on the
  // launcher, or a click), hidden until opened, so the click usually finds it loaded.
  function ensureFrame() {
    if (frame) return;
    frame = document.createElement("iframe");
    var src = new URL("embed/", base);
    if (data.greeting) src.searchParams.set("greeting", data.greeting);
    if (data.suggestions) src.searchParams.set("suggestions", data.suggestions);
    if (/^https?:$/.test(location.protocol)) src.searchParams.set("site", location.origin);
    frame.src = src.href;
    frame.title = title;
    frame.addEventListener("load", function () {
      frameLoaded = true;
      if (panel.classList.contains("open") && focusWanted) focusChat();
    });
    panel.appendChild(frame);
  }
  var focusWanted = false;
  // Focus into the chat's question box: the iframe element first (so the chat page may
  // take focus), then a message asking the chat to focus its input.
  function focusChat() {
    frame.focus();
    if (frameLoaded && frame.contentWindow) {
      frame.contentWindow.postMessage({ type: "faq-widget-focus" }, base.origin);
    }
  }

  function open(takeFocus) {
    ensureFrame();
    panel.classList.add("open");
    button.setAttribute("aria-expanded", "true");
    try { sessionStorage.setItem(key, "1"); } catch (e) { /* storage may be off */ }
    focusWanted = takeFocus !== false;
    if (focusWanted) focusChat();
  }
  function hide() {
    panel.classList.remove("open");
    button.setAttribute("aria-expanded", "false");
    focusWanted = false;
    try { sessionStorage.setItem(key, "0"); } catch (e) { /* storage may be off */ }
    button.focus();
  }
  function toggle() { panel.classList.contains("open") ? hide() : open(); }
  button.addEventListener("click", function () { toggle(); });
  button.addEventListener("pointerenter", ensureFrame);
  button.addEventListener("focus", ensureFrame);
  close.addEventListener("click", hide);
  root.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && panel.classList.contains("open")) hide();
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && panel.classList.contains("open")) hide();
  });
  // Messages from the chat iframe (the assistant's origin only): Esc pressed inside it, and
  // its conversation when the browser gives a framed page of another site no storage.
  var chatKey = "faq-widget-chat:" + home;
  window.addEventListener("message", function (event) {
    var msg = event.data;
    if (event.origin !== base.origin || !frame || event.source !== frame.contentWindow ||
        !msg || typeof msg.type !== "string") return;
    if (msg.type === "faq-widget-close" && panel.classList.contains("open")) hide();
    try {
      if (msg.type === "faq-widget-store" && typeof msg.value === "string") {
        sessionStorage.setItem(chatKey, msg.value);
      } else if (msg.type === "faq-widget-ready" && sessionStorage.getItem(chatKey)) {
        event.source.postMessage({ type: "faq-widget-restore", value: sessionStorage.getItem(chatKey) },
          base.origin);
      }
    } catch (e) { /* storage may be off or full */ }
  });
  root.appendChild(css);
  root.appendChild(panel);
  root.appendChild(button);
  (document.body || document.documentElement).appendChild(host);
  var wasOpen = false;
  try { wasOpen = sessionStorage.getItem(key) === "1"; } catch (e) { /* storage may be off */ }
  if (wasOpen) open(false); // shown again on the next page, without taking the focus
  window.FaqWidget = {
    open: function () { open(); },
    close: hide,
    toggle: function () { toggle(); },
  };
})();
