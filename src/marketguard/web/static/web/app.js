// MarketGuard UI helpers. htmx sends the CSRF token from the <body hx-headers> attribute.
(function () {
  "use strict";
  // Live countdowns: <time data-deadline="ISO">; updated every 30 s, shown in the page language.
  function renderCountdowns() {
    const now = Date.now();
    document.querySelectorAll("[data-deadline]").forEach(function (el) {
      const ms = Date.parse(el.dataset.deadline) - now;
      const abs = Math.abs(ms), h = Math.floor(abs / 3600000), m = Math.floor((abs % 3600000) / 60000);
      const text = (h ? h + "h " : "") + m + "m";
      el.textContent = ms >= 0 ? (el.dataset.leftLabel || "") .replace("%s", text) || text
                               : (el.dataset.overLabel || "-%s").replace("%s", text);
      el.classList.toggle("overdue", ms < 0);
    });
  }
  document.addEventListener("DOMContentLoaded", renderCountdowns);
  document.addEventListener("htmx:afterSwap", renderCountdowns);
  setInterval(renderCountdowns, 30000);
})();
