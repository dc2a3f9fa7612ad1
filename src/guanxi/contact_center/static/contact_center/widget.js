/* Guanxi web chat and visitor tracking. Paste into a page:
 *   <script src="https://CRM-HOST/cc/widget.js" data-site="PUBLIC-KEY" async></script>
 * Records each page view, keeps the visitor's key in a cookie, and opens a chat (or, when nobody is online,
 * a message form that becomes a ticket). Text from people is always set with textContent, never as HTML. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__guanxiChat) { return; }
  window.__guanxiChat = true;
  var site = script.getAttribute("data-site") || "";
  var base = new URL(script.src, location.href);
  var origin = base.origin;
  var COOKIE = "gx_visitor";
  var lang = (document.documentElement.lang || navigator.language || "en").toLowerCase();
  var zh = lang.indexOf("zh") === 0;
  var T = zh ? {
    open: "在线咨询", title: "在线客服", send: "发送", placeholder: "请输入消息…", close: "关闭",
    offline: "客服暂时不在线，请留言，我们会尽快回复。", name: "姓名", email: "邮箱", phone: "电话",
    message: "留言", leave: "提交留言", thanks: "已收到您的留言，工单号：", agent: "客服", you: "我",
    system: "系统", error: "发送失败：", link: "打开链接", document: "文件"
  } : {
    open: "Chat with us", title: "Live chat", send: "Send", placeholder: "Type a message…", close: "Close",
    offline: "Nobody is online right now. Leave a message and we will get back to you.", name: "Name",
    email: "Email", phone: "Phone", message: "Message", leave: "Send message",
    thanks: "Thank you, we have your message. Ticket: ", agent: "Agent", you: "You", system: "System",
    error: "Not sent: ", link: "Open link", document: "Document"
  };

  function getCookie() {
    var m = document.cookie.match(/(?:^|;\s*)gx_visitor=([A-Za-z0-9_-]+)/);
    return m ? m[1] : "";
  }
  function setCookie(v) {
    document.cookie = COOKIE + "=" + v + ";path=/;max-age=31536000;SameSite=Lax";
  }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) { e.setAttribute(k, attrs[k]); }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }

  var visitor = getCookie();
  var socket = null, online = false, retry = 1000;

  // ------------------------------------------------------------------ the panel
  // Under 480 px (a phone) the open panel fills the screen; its height follows the visual viewport so the
  // on-screen keyboard never hides the input. Buttons and inputs are at least 44 px high (touch targets), and
  // inputs use 16 px type so iOS does not zoom into them.
  var style = el("style", {}, "#gx-chat-button{position:fixed;right:20px;bottom:20px;z-index:2147483000;" +
    "background:#0d6efd;color:#fff;border:0;border-radius:24px;padding:10px 18px;font:14px sans-serif;cursor:pointer;" +
    "min-height:44px}" +
    "#gx-chat-panel{position:fixed;right:20px;bottom:70px;width:320px;max-height:460px;display:none;flex-direction:column;" +
    "background:#fff;border:1px solid #ccc;border-radius:8px;z-index:2147483000;font:14px sans-serif;color:#222;" +
    "box-sizing:border-box}" +
    "#gx-chat-panel.gx-open{display:flex}#gx-chat-head{display:flex;align-items:center;padding:4px 4px 4px 12px;" +
    "background:#0d6efd;color:#fff;border-radius:8px 8px 0 0}#gx-chat-title{flex:1}" +
    "#gx-chat-close{background:transparent;color:#fff;border:0;font:22px sans-serif;min-width:44px;min-height:44px;" +
    "cursor:pointer}" +
    "#gx-chat-log{flex:1;overflow:auto;padding:8px;min-height:160px}.gx-msg{margin:4px 0;white-space:pre-wrap;word-break:break-word}" +
    ".gx-who{font-weight:bold;margin-right:4px}#gx-chat-form,#gx-offline-form{display:flex;gap:4px;padding:8px;flex-wrap:wrap}" +
    "#gx-chat-form input{flex:1 1 auto;min-width:0;padding:4px;min-height:44px;box-sizing:border-box}" +
    "#gx-offline-form input,#gx-offline-form textarea{flex:1 1 100%;padding:4px;box-sizing:border-box}" +
    "#gx-offline-form input{min-height:44px}#gx-chat-form button,#gx-offline-form button{min-height:44px;min-width:64px}" +
    ".gx-error{color:#b02a37}" +
    "@media (max-width:480px){#gx-chat-panel{left:0;right:0;top:0;bottom:auto;width:100%;height:100%;" +
    "height:100dvh;max-height:none;border:0;border-radius:0}#gx-chat-head{border-radius:0}#gx-chat-log{min-height:0}" +
    "#gx-chat-form input,#gx-offline-form input,#gx-offline-form textarea{font-size:16px}" +
    "#gx-offline-form{overflow:auto}}");
  var button = el("button", {id: "gx-chat-button", type: "button"}, T.open);
  var panel = el("div", {id: "gx-chat-panel", role: "dialog", "aria-label": T.title});
  var head = el("div", {id: "gx-chat-head"});
  var closer = el("button", {id: "gx-chat-close", type: "button", "aria-label": T.close, title: T.close}, "\u00d7");
  head.appendChild(el("span", {id: "gx-chat-title"}, T.title)); head.appendChild(closer);
  var log = el("div", {id: "gx-chat-log", "aria-live": "polite"});
  var form = el("form", {id: "gx-chat-form"});
  var input = el("input", {id: "gx-chat-input", maxlength: "4000", placeholder: T.placeholder, "aria-label": T.message});
  var send = el("button", {id: "gx-chat-send", type: "submit"}, T.send);
  form.appendChild(input); form.appendChild(send);
  var offline = el("form", {id: "gx-offline-form"});
  offline.appendChild(el("p", {}, T.offline));
  [["name", T.name, "input"], ["email", T.email, "input"], ["phone", T.phone, "input"], ["body", T.message, "textarea"]]
    .forEach(function (f) {
      offline.appendChild(el(f[2], {name: f[0], placeholder: f[1], "aria-label": f[1], id: "gx-offline-" + f[0]}));
    });
  offline.appendChild(el("button", {type: "submit", id: "gx-offline-send"}, T.leave));
  panel.appendChild(head); panel.appendChild(log); panel.appendChild(form); panel.appendChild(offline);

  function showMode() {
    var hasChat = log.childNodes.length > 0;
    form.style.display = online || hasChat ? "flex" : "none";
    offline.style.display = online || hasChat ? "none" : "flex";
  }
  function line(who, text, cls) {
    var row = el("div", {"class": "gx-msg " + (cls || "")});
    row.appendChild(el("span", {"class": "gx-who"}, who + ":"));
    row.appendChild(el("span", {"class": "gx-body"}, text));
    log.appendChild(row);
    log.scrollTop = log.scrollHeight;
    return row;
  }
  function show(m) {
    if (m.sender === "document") {  // a file the agent sent: a download that works with this visitor's key only
      var doc = line(T.document, "");
      var d = el("a", {rel: "noopener noreferrer", "class": "gx-document", download: m.body}, m.body);
      d.href = origin + m.url + "?visitor=" + encodeURIComponent(visitor);
      doc.querySelector(".gx-body").appendChild(d);
      panel.classList.add("gx-open");
      showMode();
      return;
    }
    if (m.sender === "link") {
      var row = line(T.agent, "");
      var a = el("a", {target: "_blank", rel: "noopener noreferrer", "class": "gx-link"}, m.body);
      if (/^https?:\/\//i.test(m.body)) { a.href = m.body; }
      row.querySelector(".gx-body").appendChild(a);
      return;
    }
    var who = m.sender === "visitor" ? T.you : m.sender === "agent" ? (m.agent || T.agent) : T.system;
    line(who, m.body, "gx-" + m.sender);
    if (m.sender === "agent") { panel.classList.add("gx-open"); }
    showMode();
  }
  function errors(e) {
    var text = [];
    for (var k in e || {}) { text.push((e[k] || []).join(" ")); }
    line(T.system, T.error + text.join(" "), "gx-error");
  }

  // ------------------------------------------------------------------ the socket
  function connect() {
    var url = origin.replace(/^http/, "ws") + "/ws/cc/visitor/" + encodeURIComponent(site) + "/?visitor=" +
      encodeURIComponent(visitor);
    socket = new WebSocket(url);
    socket.onopen = function () { retry = 1000; };
    socket.onmessage = function (ev) {
      var m;
      try { m = JSON.parse(ev.data); } catch (err) { return; }
      if (m.type === "state") {
        if (m.visitor && m.visitor !== visitor) { visitor = m.visitor; setCookie(visitor); }
        online = !!m.online;
        while (log.firstChild) { log.removeChild(log.firstChild); }
        (m.messages || []).forEach(show);
        showMode();
      } else if (m.type === "message") {
        show(m);
      } else if (m.type === "ticket") {
        offline.reset();
        line(T.system, T.thanks + m.number, "gx-ticket");
        form.style.display = "none";
      } else if (m.type === "error") {
        errors(m.errors);
      }
    };
    socket.onclose = function (ev) {
      if (ev.code === 4403) { return; }  // this page may not use the widget
      if (ev.code === 4429) { retry = 60000; }  // too many opens from this address: wait a minute
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 30000);
    };
  }
  function post(data) {
    if (socket && socket.readyState === 1) { socket.send(JSON.stringify(data)); }
  }
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var body = input.value.trim();
    if (!body) { return; }
    post({type: "message", body: body});
    input.value = "";
  });
  offline.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var data = {type: "offline"};
    ["name", "email", "phone", "body"].forEach(function (k) { data[k] = offline.elements[k].value; });
    post(data);
  });
  button.addEventListener("click", function () {
    panel.classList.toggle("gx-open");
    fitToScreen();
    if (panel.classList.contains("gx-open")) { input.focus(); }
  });
  closer.addEventListener("click", function () { panel.classList.remove("gx-open"); });
  function fitToScreen() {  // on a phone: the part of the screen the keyboard leaves free
    var vv = window.visualViewport;
    var small = window.matchMedia && window.matchMedia("(max-width:480px)").matches;
    panel.style.height = small && vv ? vv.height + "px" : "";
    panel.style.top = small && vv ? vv.offsetTop + "px" : "";
  }
  if (window.visualViewport) {
    window.visualViewport.addEventListener("resize", fitToScreen);
    window.visualViewport.addEventListener("scroll", fitToScreen);
  }

  // ------------------------------------------------------------------ tracking, then the chat
  function track() {
    return fetch(origin + "/cc/track", {
      method: "POST", headers: {"Content-Type": "application/json"}, credentials: "omit",
      body: JSON.stringify({site: site, visitor: visitor || null, url: location.href.slice(0, 2000),
        title: document.title.slice(0, 300), referrer: document.referrer.slice(0, 2000)})
    }).then(function (r) { return r.ok ? r.json() : {}; }).then(function (d) {
      if (d.visitor) { visitor = d.visitor; setCookie(visitor); }
    }).catch(function () {});
  }
  function start() {
    document.head.appendChild(style);
    document.body.appendChild(button);
    document.body.appendChild(panel);
    showMode();
    track().then(connect);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
