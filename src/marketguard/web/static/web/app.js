// MarketGuard UI helpers. htmx sends the CSRF token from the <body hx-headers> attribute.
(function () {
  "use strict";
  // An amount in yuan as the server reads it (core.money.parse_yuan: "129.9", "1,299.00", "¥59",
  // ".5"), in fen; null when it is not one. Shared with the pages' own scripts.
  window.MarketGuard = window.MarketGuard || {};
  window.MarketGuard.yuanToFen = function (text) {
    var clean = String(text).trim().replace(/^[¥￥]/, "").replace(/,/g, "");
    return /^(\d+\.?\d{0,2}|\.\d{1,2})$/.test(clean) ? Math.round(parseFloat(clean) * 100) : null;
  };
  // Live countdowns: <time data-deadline="ISO">; updated every 30 s, in the page language (the
  // units come translated in data-days / data-hours / data-minutes). A day or more is counted in
  // days and hours, with the date itself after them (the date is also the title); under a day in
  // hours and minutes, under an hour in minutes. One rule for every countdown, overdue or not.
  function fill(format, values) {
    return format.replace(/%\((\w+)\)s/g, function (_all, key) { return String(values[key]); });
  }
  // Counted on the server's clock, not the device's (a phone set ten minutes wrong would count
  // every deadline wrong): the page says when it was made (<body data-now>, seconds since 1970,
  // and is never served from the browser's cache), and the gap to the device's clock when it
  // loads is kept. Gaps under a minute are the page's travel time, not a wrong clock.
  var skew = 0;
  function readSkew() {
    var made = parseInt(document.body && document.body.dataset.now, 10);
    var gap = isNaN(made) ? 0 : made * 1000 - Date.now();
    skew = Math.abs(gap) > 60000 ? gap : 0;
  }
  function renderCountdowns() {
    const now = Date.now() + skew;
    document.querySelectorAll("[data-deadline]").forEach(function (el) {
      const ms = Date.parse(el.dataset.deadline) - now;
      const abs = Math.abs(ms);
      const d = Math.floor(abs / 86400000), h = Math.floor(abs / 3600000), m = Math.floor((abs % 3600000) / 60000);
      let text;
      if (d >= 1) text = fill(el.dataset.days || "%(d)sd %(h)sh", {d: d, h: h % 24});
      else if (h) text = fill(el.dataset.hours || "%(h)sh %(m)sm", {h: h, m: m});
      else text = fill(el.dataset.minutes || "%(m)sm", {m: m});
      text = ms >= 0 ? (el.dataset.leftLabel || "%s").replace("%s", text)
                     : (el.dataset.overLabel || "-%s").replace("%s", text);
      // the date after spans of a day or more, unless the page prints it already (data-nodate)
      el.textContent = d >= 1 && el.title && !("nodate" in el.dataset) ? text + " · " + el.title : text;
      // a time something becomes possible (data-neutral: "in 3h", then "now") is never overdue
      el.classList.toggle("overdue", ms < 0 && !("neutral" in el.dataset));
    });
  }
  // <button data-confirm="..."> (or a form with it): an irreversible step (accepting an offer, a
  // ruling, a merge...) is asked once more, in words that say what it does; cancelled, nothing is
  // sent. Captured before htmx or the browser sends the form.
  document.addEventListener("submit", function (event) {
    var asking = event.submitter && event.submitter.dataset.confirm ? event.submitter : event.target;
    var text = asking && asking.dataset ? asking.dataset.confirm : "";
    if (text && !window.confirm(text)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
  document.addEventListener("DOMContentLoaded", function () { readSkew(); renderCountdowns(); });
  document.addEventListener("htmx:afterSwap", renderCountdowns);
  setInterval(renderCountdowns, 30000);
  // A refusal (400, 403, 404, 409, 422, 429) to an htmx request comes back as a small fragment
  // with the reason: show it (htmx swaps only 2xx by default). Whole pages (a sign-in page after
  // the session ended, say) and server errors are not swapped into a part of the page.
  // Behaviour wired here, not in inline handlers (the Content Security Policy forbids them):
  // <p data-count-for="id" data-count-label="%(n)s of %(max)s"> counts what is typed in a field
  // with a maxlength, so text pasted beyond it is not cut off unseen;
  function count(el) {
    var field = document.getElementById(el.dataset.countFor);
    if (!field || !field.maxLength || field.maxLength < 0) return;
    el.textContent = fill(el.dataset.countLabel || "%(n)s / %(max)s", {n: field.value.length, max: field.maxLength});
    el.classList.toggle("warn", field.value.length >= field.maxLength);
  }
  document.addEventListener("input", function (event) {
    document.querySelectorAll('[data-count-for="' + event.target.id + '"]').forEach(count);
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-count-for]").forEach(count);
  });
  // <select data-autosubmit> sends its form on change (language, period);
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches && el.matches("select[data-autosubmit]") && el.form) el.form.submit();
  });
  // <form data-reset-on-success="selector"> is cleared after a 200 answer to its htmx request,
  // and the elements the selector names (error slots) emptied;
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (!form || !form.matches || !form.matches("form[data-reset-on-success]")) return;
    if (!event.detail.xhr || event.detail.xhr.status !== 200) return;
    form.reset();
    var clear = form.getAttribute("data-reset-on-success");
    if (clear) form.querySelectorAll(clear).forEach(function (el) { el.innerHTML = ""; });
  });
  // <select data-insert-into="#textarea" data-texts="json-script id"> (ready replies): the chosen
  // text goes into the textarea (after what is there), to be edited before sending;
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!select.matches || !select.matches("select[data-insert-into]") || !select.value) return;
    var target = document.querySelector(select.getAttribute("data-insert-into"));
    var source = document.getElementById(select.getAttribute("data-texts"));
    var text = source && JSON.parse(source.textContent)[select.value];
    if (target && text) {
      target.value = target.value.trim() ? target.value.replace(/\s+$/, "") + "\n\n" + text : text;
      target.focus();
    }
    select.value = "";
  });
  // <a data-fill-handoff="problem type"> (the assistant's offer) preselects the hand-off form.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-fill-handoff]");
    var select = link && document.getElementById("handoff-problem");
    if (select) select.value = link.getAttribute("data-fill-handoff");
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    var whole = /^\s*<!doctype/i.test(event.detail.serverResponse || "");
    if (!whole && [400, 403, 404, 409, 422, 429].indexOf(status) >= 0) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
