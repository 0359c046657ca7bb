// Case page: keeps every form's `version` current after an htmx action, and shows refusals.
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
  // A refusal (403, 404, 409, 422) comes back as a small fragment with the reason: show it.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (status === 403 || status === 404 || status === 409 || status === 422) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
