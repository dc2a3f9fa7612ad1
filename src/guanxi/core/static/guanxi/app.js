/* Guanxi: the little behaviour htmx does not cover. No build step, no dependencies. */
(function () {
  "use strict";

  // Filter forms marked data-drop-empty send only the filters in use, so URLs stay short and shareable.
  document.addEventListener("htmx:configRequest", function (evt) {
    var elt = evt.detail.elt;
    var form = elt && elt.closest ? elt.closest("[data-drop-empty]") : null;
    if (!form || !evt.detail.formData) return;
    var empty = [];
    evt.detail.formData.forEach(function (value, key) { if (value === "") empty.push(key); });
    empty.forEach(function (key) {
      var kept = evt.detail.formData.getAll(key).filter(function (v) { return v !== ""; });
      evt.detail.formData.delete(key);
      kept.forEach(function (v) { evt.detail.formData.append(key, v); });
    });
  });

  // A non-htmx submit of the same form: drop empty inputs too.
  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    if (!form.matches || !form.matches("[data-drop-empty]") || form.getAttribute("hx-get")) return;
    Array.prototype.forEach.call(form.elements, function (input) {
      if (input.name && input.value === "" && !input.disabled) input.disabled = true;
    });
  }, true);

  // "Select all" checkbox in list headers.
  document.addEventListener("change", function (evt) {
    var box = evt.target;
    if (box.matches && box.matches("[data-select-all]")) {
      var table = box.closest("table");
      table.querySelectorAll("input[name=ids]").forEach(function (c) { c.checked = box.checked; });
    }
    if (box.matches && box.matches("input[name=ids], [data-select-all]")) updateBulkCount();
  });

  function updateBulkCount() {
    var count = document.querySelectorAll("input[name=ids]:checked").length;
    document.querySelectorAll("[data-bulk-count]").forEach(function (el) { el.textContent = count; });
    document.querySelectorAll("[data-bulk-submit]").forEach(function (el) { el.disabled = count === 0; });
  }
  document.addEventListener("htmx:afterSwap", updateBulkCount);
  document.addEventListener("DOMContentLoaded", updateBulkCount);

  // Account picker: a chosen result moves to the "selected" list, so the next search keeps it.
  document.addEventListener("change", function (evt) {
    var input = evt.target;
    var results = input.closest && input.closest(".gx-picker-results");
    if (!results || !input.checked) return;
    var picker = results.closest(".gx-picker");
    var selected = picker.querySelector(".gx-picker-selected");
    var label = input.closest("label");
    if (input.type === "radio") {
      selected.querySelectorAll("label[data-picked]").forEach(function (l) { l.remove(); });
    } else if (selected.querySelector("input[value='" + input.value + "']")) {
      label.remove();
      return;
    }
    label.setAttribute("data-picked", "");
    label.classList.remove("list-group-item", "list-group-item-action");
    label.classList.add("btn", "btn-sm", "btn-outline-primary", "gx-picked");
    selected.appendChild(label);
    var search = picker.querySelector(".gx-picker-search");
    if (search) { search.value = ""; }
    results.innerHTML = "";
  });

  // The search drop-down closes with Escape or a click elsewhere.
  function closeSuggest() {
    var box = document.getElementById("search-suggest");
    if (box) box.innerHTML = "";
  }
  document.addEventListener("keydown", function (evt) {
    if (evt.key === "Escape") closeSuggest();
  });
  document.addEventListener("click", function (evt) {
    if (!evt.target.closest || !evt.target.closest(".gx-search")) closeSuggest();
  });

  // Note form: clear after a successful post (the server answers the timeline with an empty form).
  document.addEventListener("htmx:afterRequest", function (evt) {
    var form = evt.detail.elt;
    if (form && form.matches && form.matches("[data-reset-on-success]") && evt.detail.successful) {
      var box = form.querySelector("textarea");
      if (box && !form.querySelector(".is-invalid")) box.focus();
    }
  });

  // "Insert" buttons carrying their text (data-insert-text): put it at the cursor of a text box, as text.
  document.addEventListener("click", function (evt) {
    var button = evt.target.closest && evt.target.closest("[data-insert-text]");
    if (!button) return;
    var box = document.getElementById(button.dataset.insertInto);
    if (!box) return;
    var text = button.dataset.insertText;
    var before = box.value.slice(0, box.selectionStart);
    if (before && !/\n$/.test(before)) text = "\n" + text;
    box.setRangeText(text, box.selectionStart, box.selectionEnd, "end");
    box.focus();
  });

  // "Insert" buttons: fetch the chosen text (JSON {text}) and put it at the cursor of a text box, as text.
  document.addEventListener("click", function (evt) {
    var button = evt.target.closest && evt.target.closest("[data-insert-url]");
    if (!button) return;
    var choice = document.getElementById(button.dataset.insertFrom);
    var box = document.getElementById(button.dataset.insertInto);
    if (!choice || !box || !choice.value) return;
    fetch(button.dataset.insertUrl + "?id=" + encodeURIComponent(choice.value), {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) return;
        box.setRangeText(data.text, box.selectionStart, box.selectionEnd, "end");
        box.focus();
      });
  });
})();
