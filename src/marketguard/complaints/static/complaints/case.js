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
})();
