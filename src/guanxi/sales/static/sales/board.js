/* The kanban board: HTML5 drag and drop. A drop moves the card at once and POSTs the move to the API;
   a refused move puts the card back where it was and shows why. No dependencies. */
(function () {
  "use strict";
  var board = document.getElementById("board");
  if (!board || board.dataset.canEdit !== "1") return;
  var errorBox = document.getElementById("board-error");
  var dragged = null;

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }

  function money(value, grouped) {
    // Grouped like the server rendered it (the language decides: "9,360.25" or "9360.25").
    return grouped ? value.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })
                   : value.toFixed(2);
  }

  function adjust(column, count, amount) {
    var countEl = column.querySelector("[data-count]");
    var totalEl = column.querySelector("[data-total]");
    countEl.textContent = String(parseInt(countEl.textContent, 10) + count);
    var total = parseFloat(totalEl.textContent.replace(/,/g, "")) + amount;
    totalEl.textContent = money(Math.max(total, 0), totalEl.textContent.indexOf(",") >= 0);
  }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.classList.remove("d-none");
  }

  function messageOf(body) {
    var parts = [];
    if (body && body.errors) {
      Object.keys(body.errors).forEach(function (key) { parts = parts.concat(body.errors[key]); });
    }
    if (!parts.length && body && body.detail) parts.push(body.detail);
    return parts.join(" ") || board.dataset.failed;
  }

  board.addEventListener("dragstart", function (evt) {
    var card = evt.target.closest && evt.target.closest(".gx-deal");
    if (!card) return;
    dragged = card;
    card.classList.add("gx-dragging");
    evt.dataTransfer.effectAllowed = "move";
    evt.dataTransfer.setData("text/plain", card.dataset.id);
  });

  board.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("gx-dragging");
    board.querySelectorAll(".gx-over").forEach(function (c) { c.classList.remove("gx-over"); });
  });

  board.addEventListener("dragover", function (evt) {
    var column = evt.target.closest && evt.target.closest(".gx-column");
    if (!column || !dragged) return;
    evt.preventDefault();
    evt.dataTransfer.dropEffect = "move";
    board.querySelectorAll(".gx-over").forEach(function (c) { if (c !== column) c.classList.remove("gx-over"); });
    column.classList.add("gx-over");
  });

  board.addEventListener("drop", function (evt) {
    var column = evt.target.closest && evt.target.closest(".gx-column");
    if (!column || !dragged) return;
    evt.preventDefault();
    column.classList.remove("gx-over");
    var card = dragged;
    dragged = null;
    var from = card.closest(".gx-column");
    if (from === column) return;
    if (column.dataset.kind === "lost") {
      askLostReason(card, function (reason) { move(card, from, column, reason); });
    } else {
      move(card, from, column, null);
    }
  });

  // A lost stage needs a reason: asked in a modal; Cancel leaves the card where it was and posts nothing.
  var lostModal = document.getElementById("lost-modal");
  var lostForm = document.getElementById("lost-form");
  var lostInput = document.getElementById("lost-reason");
  var onLost = null;
  if (lostModal) {
    lostModal.addEventListener("shown.bs.modal", function () { lostInput.focus(); });
    lostModal.addEventListener("hidden.bs.modal", function () { onLost = null; });
    lostForm.addEventListener("submit", function (evt) {
      evt.preventDefault();
      var proceed = onLost;
      onLost = null;
      window.bootstrap.Modal.getOrCreateInstance(lostModal).hide();
      if (proceed) proceed(lostInput.value.trim());
    });
  }

  function askLostReason(card, proceed) {
    var title = card.querySelector("a");
    document.getElementById("lost-deal").textContent = title ? title.textContent : "";
    lostInput.value = "";
    onLost = proceed;
    window.bootstrap.Modal.getOrCreateInstance(lostModal).show();
  }

  function move(card, from, column, lostReason) {
    // Move it now; put it back if the server refuses.
    var home = card.parentNode, next = card.nextSibling;
    var amount = parseFloat(card.dataset.amount) || 0;
    column.querySelector("[data-dropzone]").prepend(card);
    adjust(from, -1, -amount);
    adjust(column, 1, amount);
    card.classList.add("gx-saving");
    errorBox.classList.add("d-none");
    var payload = { stage_id: parseInt(column.dataset.stage, 10), version: parseInt(card.dataset.version, 10) };
    if (lostReason) payload.lost_reason = lostReason;
    fetch(board.dataset.moveUrl + card.dataset.id + "/move", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), "Accept": "application/json" },
      body: JSON.stringify(payload)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        return { ok: response.ok, body: body };
      });
    }).then(function (result) {
      card.classList.remove("gx-saving");
      if (result.ok) {
        card.dataset.version = String(result.body.version);
        card.setAttribute("data-saved", "1");
        return;
      }
      home.insertBefore(card, next && next.parentNode === home ? next : null);
      adjust(column, -1, -amount);
      adjust(from, 1, amount);
      if (result.body && result.body.current) card.dataset.version = String(result.body.current.version);
      showError(messageOf(result.body));
    }).catch(function () {
      card.classList.remove("gx-saving");
      home.insertBefore(card, next && next.parentNode === home ? next : null);
      adjust(column, -1, -amount);
      adjust(from, 1, amount);
      showError(board.dataset.failed);
    });
  }
})();
