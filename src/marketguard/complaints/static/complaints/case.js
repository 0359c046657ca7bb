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
})();
