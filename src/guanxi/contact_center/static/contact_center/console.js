/* The agent console: one WebSocket to /ws/cc/agent/. Text from visitors is set with textContent only. */
(function () {
  "use strict";
  var root = document.getElementById("console");
  if (!root) { return; }
  var selected = parseInt(root.dataset.selected || "0", 10) || null;
  var log = document.getElementById("chat-log");
  var statusBadge = document.getElementById("console-status");
  var socket = null, retry = 1000;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }
  function who(m) {
    if (m.sender === "agent") { return m.agent || root.dataset.you; }
    if (m.sender === "visitor") { return root.dataset.visitor; }
    return root.dataset.system;
  }
  function append(m) {
    var row = el("div", "mb-1 gx-chat-" + m.sender);
    row.appendChild(el("strong", "", who(m) + ": "));
    if (m.sender === "document") {  // staff download it from the chat (the visitor's link is theirs)
      var a = el("a", "gx-body gx-document", m.body);
      a.href = root.dataset.documentUrl.replace("/0/", "/" + m.document + "/");
      row.appendChild(a);
    } else {
      row.appendChild(el("span", "gx-body", m.body));
    }
    log.appendChild(row);
    log.scrollTop = log.scrollHeight;
  }
  function touchChat(m) {
    var list = document.getElementById("chat-list");
    var empty = document.getElementById("no-chats");
    if (empty) { empty.remove(); }
    var item = list.querySelector('[data-conversation="' + m.conversation + '"]');
    if (m.status === "closed") { if (item && m.conversation !== selected) { item.remove(); } return; }
    if (!item) {
      item = el("li", "list-group-item");
      item.dataset.conversation = m.conversation;
      var a = el("a", "stretched-link", root.dataset.visitor + " #" + m.visitor);
      a.href = root.dataset.urlBase + m.conversation + "/";
      item.appendChild(a);
      item.appendChild(el("div", "small text-truncate gx-last"));
    }
    var last = item.querySelector(".gx-last");
    if (last) { last.textContent = m.body; }
    list.insertBefore(item, list.firstChild);
  }
  function touchVisitor(v) {
    var item = document.querySelector('#visitor-list [data-visitor="' + v.visitor + '"]');
    if (!item) { return; }
    item.querySelector(".gx-url").textContent = v.url;
    item.querySelector(".gx-pages").textContent = v.pages;
  }
  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + root.dataset.socket);
    socket.onopen = function () {
      retry = 1000;
      statusBadge.textContent = statusBadge.dataset.online;
      statusBadge.className = "badge text-bg-success ms-2";
    };
    socket.onmessage = function (ev) {
      var m;
      try { m = JSON.parse(ev.data); } catch (err) { return; }
      if (m.type === "message") {
        touchChat(m);
        if (m.conversation === selected) { append(m); }
      } else if (m.type === "inbox" && m.source === "chat" && (m.visible === false || m.status === "closed")) {
        // taken by another agent (this user may not see it any more) or closed elsewhere
        var gone = document.querySelector('#chat-list [data-conversation="' + m.id + '"]');
        if (gone && m.id !== selected) { gone.remove(); }
      } else if (m.type === "visitor") {
        touchVisitor(m);
      } else if (m.type === "error") {
        var text = [];
        for (var k in m.errors) { text.push(m.errors[k].join(" ")); }
        append({sender: "system", body: text.join(" ")});
      }
    };
    socket.onclose = function (ev) {
      statusBadge.textContent = statusBadge.dataset.offline;
      statusBadge.className = "badge text-bg-secondary ms-2";
      if (ev.code === 4429) { retry = 60000; }  // opened too often: wait a minute
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 30000);
    };
  }
  function send(data) {
    if (socket && socket.readyState === 1) { socket.send(JSON.stringify(data)); }
  }
  var reply = document.getElementById("reply-form");
  if (reply) {
    reply.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var input = document.getElementById("reply-body");
      if (!input.value.trim()) { return; }
      send({type: "reply", conversation: selected, body: input.value});
      input.value = "";
    });
    document.getElementById("link-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var input = document.getElementById("link-url");
      send({type: "link", conversation: selected, url: input.value});
      input.value = "";
    });
    document.getElementById("close-chat").addEventListener("click", function () {
      send({type: "close", conversation: selected});
    });
  }
  document.querySelectorAll("#visitor-list .gx-invite").forEach(function (button) {
    button.addEventListener("click", function () {
      var id = parseInt(button.closest("[data-visitor]").dataset.visitor, 10);
      send({type: "invite", visitor: id, body: root.dataset.inviteText});
    });
  });
  connect();
})();
