/* The agent inbox: the agent socket (/ws/cc/agent/) says when something changed ("inbox": a ticket filed, written
   on or moved to another status, assignee or queue, a chat taken or closed; "message": a web chat message); the
   list is then fetched again through htmx, so it only ever holds what the server lets this agent see. Messages of
   the open chat are appended with textContent only. */
(function () {
  "use strict";
  var root = document.getElementById("inbox");
  if (!root) { return; }
  var list = document.getElementById("inbox-list");
  var badge = document.getElementById("inbox-status");
  var retry = 1000, pending = false;

  function selected() {
    var open = document.getElementById("inbox-open");
    return open ? (open.dataset.key || "") : "";
  }
  function mark() {
    var key = selected();
    list.querySelectorAll(".gx-inbox-item").forEach(function (item) {
      item.classList.toggle("active", item.dataset.key === key);
    });
  }
  function refresh() {
    if (pending) { return; }
    pending = true;
    window.setTimeout(function () { pending = false; window.htmx.trigger(list, "inbox-refresh"); }, 200);
  }
  function append(m) {
    var log = document.getElementById("pane-log");
    if (!log || selected() !== "chat-" + m.conversation) { return; }
    var row = document.createElement("div");
    row.className = "mb-1 gx-chat-" + m.sender;
    var who = document.createElement("strong");
    who.textContent = (m.sender === "agent" ? (m.agent || root.dataset.you) :
      m.sender === "visitor" ? root.dataset.visitor : root.dataset.system) + ": ";
    var body = document.createElement(m.sender === "document" ? "a" : "span");
    body.className = m.sender === "document" ? "gx-body gx-document" : "gx-body";
    body.textContent = m.body;
    if (m.sender === "document") { body.href = root.dataset.documentUrl.replace("/0/", "/" + m.document + "/"); }
    row.appendChild(who);
    row.appendChild(body);
    log.appendChild(row);
    log.scrollTop = log.scrollHeight;
  }
  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + root.dataset.socket);
    socket.onopen = function () {
      retry = 1000;
      badge.textContent = badge.dataset.online;
      badge.className = "badge text-bg-success ms-2";
    };
    socket.onmessage = function (ev) {
      var m;
      try { m = JSON.parse(ev.data); } catch (err) { return; }
      if (m.type === "message") { append(m); refresh(); }
      else if (m.type === "inbox") { refresh(); }
    };
    socket.onclose = function (ev) {
      badge.textContent = badge.dataset.offline;
      badge.className = "badge text-bg-secondary ms-2";
      if (ev.code === 4429) { retry = 60000; }  // opened too often: wait a minute
      window.setTimeout(connect, retry);
      retry = Math.min(retry * 2, 30000);
    };
  }
  document.body.addEventListener("htmx:afterSwap", mark);
  mark();
  var log = document.getElementById("pane-log");
  if (log) { log.scrollTop = log.scrollHeight; }
  connect();
})();
