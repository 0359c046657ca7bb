// Case page: keeps every form's `version` current after an htmx action (refusals: web/app.js).
(function () {
  "use strict";
  // The server answers an htmx action with the case's new version: every form on the page carries it,
  // so the next action is not refused as stale.
  document.addEventListener("htmx:afterRequest", function (event) {
    var xhr = event.detail.xhr;
    var version = xhr && xhr.getResponseHeader("X-Case-Version");
    if (!version) return;
    document.querySelectorAll('input[name="version"]').forEach(function (input) { input.value = version; });
  });
  // Fields that only mean something for one remedy (the legal basis of a compensation) are shown
  // only while that remedy is chosen; without script they stay visible, labelled as such.
  function toggle(field) {
    var select = document.getElementById(field.getAttribute("data-remedy-select"));
    if (select) field.hidden = select.value !== field.getAttribute("data-for-remedy");
  }
  function wire(root) {
    root.querySelectorAll("[data-for-remedy]").forEach(function (field) {
      var select = document.getElementById(field.getAttribute("data-remedy-select"));
      if (!select || select.dataset.remedyWired) { toggle(field); return; }
      select.dataset.remedyWired = "1";
      select.addEventListener("change", function () {
        document.querySelectorAll('[data-remedy-select="' + select.id + '"]').forEach(toggle);
      });
      toggle(field);
    });
  }
  document.addEventListener("DOMContentLoaded", function () { wire(document); });
  document.addEventListener("htmx:afterSwap", function (event) { wire(event.target); });
  // The amount against what the chosen basis still allows (its option's data-left, in fen): said
  // as it is typed, before the form is sent (the service refuses it all the same).
  // On a ruling, a statutory basis also sets the amount (data-due): less is said too.
  function checkCeiling(basis) {
    var amount = document.getElementById(basis.dataset.amount);
    var over = document.getElementById(basis.dataset.over);
    var under = basis.dataset.under ? document.getElementById(basis.dataset.under) : null;
    var option = basis.options[basis.selectedIndex];
    if (!amount || !over) return;
    var left = option && option.dataset.left !== undefined ? parseInt(option.dataset.left, 10) : null;
    var due = option && option.dataset.due !== undefined ? parseInt(option.dataset.due, 10) : null;
    var fen = window.MarketGuard.yuanToFen(amount.value);
    var shown = !basis.closest("[hidden]");
    over.hidden = !(shown && left !== null && fen !== null && fen > left);
    if (under) under.hidden = !(shown && due !== null && fen !== null && fen < due);
  }
  function wireCeilings(root) {
    root.querySelectorAll("select[data-over]").forEach(function (basis) {
      var amount = document.getElementById(basis.dataset.amount);
      var remedy = basis.closest("[data-remedy-select]");
      var remedySelect = remedy && document.getElementById(remedy.dataset.remedySelect);
      [basis, amount, remedySelect].forEach(function (el) {
        if (el) el.addEventListener(el === amount ? "input" : "change", function () { checkCeiling(basis); });
      });
      checkCeiling(basis); // a refused form comes back with its amount: said at once
    });
  }
  document.addEventListener("DOMContentLoaded", function () { wireCeilings(document); });
})();
