/* The phone channel in every page of a signed-in agent: the screen pop (a card with the caller's contact and
   company, or "create contact" for an unknown number, when the agent's phone rings — sent over the agent socket)
   and a call button beside every tel: link (the PBX rings the agent's phone first; without a PBX, tel:).
   Text from the server is set with textContent only. */
(function () {
  "use strict";
  var root = document.getElementById("gx-phone");
  if (!root) { return; }
  var retry = 1000;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = text; }
    return e;
  }
  function link(href, cls, text) {
    var a = el("a", cls, text);
    a.href = href;
    return a;
  }
  function pop(m) {
    var old = root.querySelector('[data-call="' + m.call + '"]');
    if (old) { old.remove(); }
    var card = el("div", "toast show gx-call-pop mb-2");
    card.setAttribute("role", "alert");
    card.dataset.call = m.call;
    var head = el("div", "toast-header");
    head.appendChild(el("i", "bi bi-telephone-inbound-fill text-success me-2"));
    head.appendChild(el("strong", "me-auto", root.dataset.incoming));
    head.appendChild(el("small", "gx-call-number", m.number));
    var close = el("button", "btn-close");
    close.type = "button";
    close.setAttribute("aria-label", root.dataset.close);
    close.addEventListener("click", function () { card.remove(); });
    head.appendChild(close);
    card.appendChild(head);
    var body = el("div", "toast-body");
    if (m.contact) {
      body.appendChild(link(m.contact.url, "fw-semibold d-block gx-call-contact", m.contact.name));
    }
    if (m.account) {
      body.appendChild(link(m.account.url, "d-block gx-call-account", m.account.name));
    }
    if (!m.contact && !m.account) {
      body.appendChild(el("div", "text-body-secondary", m.hidden ? root.dataset.hidden : root.dataset.unknown));
      if (m.create_url) {
        body.appendChild(link(m.create_url, "btn btn-sm btn-primary mt-2 gx-call-create", root.dataset.create));
      }
    }
    if (m.queue) { body.appendChild(el("div", "small text-body-secondary", root.dataset.queue + " " + m.queue)); }
    card.appendChild(body);
    root.appendChild(card);
  }
  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + root.dataset.socket);
    socket.onopen = function () { retry = 1000; root.dataset.connected = "1"; };
    socket.onmessage = function (ev) {
      var m;
      try { m = JSON.parse(ev.data); } catch (err) { return; }
      if (m.type === "call") { pop(m); }
    };
    socket.onclose = function (ev) {
      root.dataset.connected = "";
      if (ev.code === 4429) { retry = 60000; }  // opened too often: wait a minute
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 60000);
    };
  }
  function csrf() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }
  function dial(tel, button) {
    var number = decodeURIComponent(tel.replace(/^tel:/, ""));
    var body = new URLSearchParams();
    body.set("number", number);
    button.disabled = true;
    fetch(root.dataset.callUrl, {method: "POST", body: body, credentials: "same-origin",
                                 headers: {"X-CSRFToken": csrf()}})
      .then(function (r) { return r.json().then(function (data) { return {ok: r.ok, status: r.status, data: data}; }); })
      .then(function (res) {
        button.disabled = false;
        if (res.ok) { button.title = res.data.detail; button.classList.add("btn-success"); return; }
        if (res.status === 400) { location.href = tel; return; }  // no PBX or no extension: the computer's dialler
        button.title = res.data.detail || "";
        button.classList.add("btn-danger");
      })
      .catch(function () { button.disabled = false; location.href = tel; });
  }
  document.querySelectorAll('main a[href^="tel:"]').forEach(function (a) {
    if (a.getAttribute("href").length < 6) { return; }
    var button = el("button", "btn btn-sm btn-outline-success py-0 px-1 ms-1 gx-call-button");
    button.type = "button";
    button.title = root.dataset.callTitle;
    button.setAttribute("aria-label", root.dataset.callTitle);
    button.appendChild(el("i", "bi bi-telephone-outbound"));
    button.addEventListener("click", function () { dial(a.getAttribute("href"), button); });
    a.insertAdjacentElement("afterend", button);
  });
  connect();
})();
