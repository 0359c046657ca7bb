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
  // Fields and help that only mean something for some remedies (the legal basis of a
  // compensation; "a refund never exceeds what was paid") are shown only while one of them is
  // chosen (data-for-remedy: a space-separated list); without script they stay visible.
  function toggle(field) {
    var select = document.getElementById(field.getAttribute("data-remedy-select"));
    if (select) field.hidden = field.getAttribute("data-for-remedy").split(" ").indexOf(select.value) < 0;
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
  // The ruling form: what the outcome and remedy chosen call for is marked required, so the
  // browser says what is missing before the "this binds both parties" confirmation is asked (the
  // service checks it all the same, and names every field at once).
  var MONEY = ["refund", "return_refund", "compensation"];
  function syncRuling() {
    var outcome = document.getElementById("ruling-outcome");
    var remedy = document.getElementById("ruling-remedy");
    if (!outcome || !remedy) return;
    var amount = document.getElementById("ruling-amount");
    var basis = document.getElementById("ruling-basis");
    remedy.required = outcome.value !== "merchant_upheld";
    if (amount) amount.required = MONEY.indexOf(remedy.value) >= 0;
    if (basis) basis.required = remedy.value === "compensation";
  }
  document.addEventListener("DOMContentLoaded", function () {
    ["ruling-outcome", "ruling-remedy"].forEach(function (id) {
      var el = document.getElementById(id);
      if (el) el.addEventListener("change", syncRuling);
    });
    syncRuling();
  });
})();
