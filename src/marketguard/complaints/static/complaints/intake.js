// Intake form: the list of what to send (一次性告知) follows the chosen problem type and kind.
// The server renders a slot for every item and the lists as JSON; without script, the page keeps
// the list for what was posted.
(function () {
  "use strict";
  // A refused form comes back with what is wrong at the top: it takes the focus, so it is read
  // out and seen on a phone, and links to the field.
  var refusal = document.getElementById("form-error");
  if (refusal) refusal.focus();
  var data = document.getElementById("intake-materials");
  var problemType = document.getElementById("id_problem_type");
  var kind = document.getElementById("id_kind");
  var list = document.querySelector('[data-testid="intake-checklist"] ul');
  if (!data || !problemType || !kind || !list) return;
  var lists = JSON.parse(data.textContent);

  function show() {
    var wanted = lists[(problemType.value || "") + "|" + kind.value] || [];
    var required = {};
    wanted.forEach(function (entry) {
      required[entry[0]] = entry[1];
      var slot = list.querySelector('li[data-code="' + entry[0] + '"]');
      if (slot) list.appendChild(slot); // in the list's order
    });
    list.querySelectorAll("li").forEach(function (slot) {
      var on = Object.prototype.hasOwnProperty.call(required, slot.dataset.code);
      slot.hidden = !on;
      var input = slot.querySelector('input[type="file"]');
      if (!on && input) input.value = ""; // files chosen for an item no longer asked for are not sent
      var mark = slot.querySelector(".req");
      if (mark) mark.hidden = !(on && required[slot.dataset.code]);
    });
  }

  // a 7-day no-reason return sends the goods back: "refund only" cannot be chosen with it
  function fitKind() {
    var refundOnly = kind.querySelector('option[value="refund_only"]');
    if (!refundOnly) return;
    var noReason = problemType.value === "no_reason_return_7day";
    refundOnly.disabled = noReason;
    if (noReason && kind.value === "refund_only") kind.value = "return_refund";
  }

  problemType.addEventListener("change", function () {
    fitKind();
    show();
  });
  kind.addEventListener("change", show);
  fitKind();
  show();
})();

// Before sending: the mistakes a browser can see (nothing said; an amount that is not yuan and
// fen) are shown at once, so the files already chosen are not lost to a round trip (a browser
// never refills a file input). The server checks everything again.
(function () {
  "use strict";
  var form = document.querySelector("form.intake");
  if (!form) return;
  var checks = {
    id_description: function (v) { return v.trim() !== ""; },
    id_amount: function (v) { return v.trim() === "" || window.MarketGuard.yuanToFen(v) !== null; },
  };
  form.addEventListener("submit", function (event) {
    var first = null;
    Object.keys(checks).forEach(function (id) {
      var field = document.getElementById(id);
      var note = document.getElementById(id + "-check");
      if (!field || !note) return;
      var ok = checks[id](field.value);
      note.hidden = ok;
      field.setAttribute("aria-invalid", ok ? "false" : "true");
      if (!ok && !first) first = field;
    });
    // more than was paid for the order (or item) chosen in the list, on anything but compensation
    var amount = document.getElementById("id_amount");
    var over = document.getElementById("id_amount-over");
    var order = document.getElementById("id_order");
    var typed = document.getElementById("id_order_number");
    var kind = document.getElementById("id_kind");
    if (amount && over && order && order.tagName === "SELECT" && !(typed && typed.value.trim())) {
      var chosen = order.options[order.selectedIndex];
      var paid = chosen && chosen.dataset.paid ? parseInt(chosen.dataset.paid, 10) : NaN;
      var fen = window.MarketGuard.yuanToFen(amount.value);
      var tooMuch = !isNaN(paid) && fen !== null && fen > paid && !(kind && kind.value === "compensation");
      over.hidden = !tooMuch;
      if (tooMuch) {
        over.textContent = over.dataset.template.replace("%(paid)s", "¥" + (paid / 100).toFixed(2));
        amount.setAttribute("aria-invalid", "true");
        if (!first) first = amount;
      }
    }
    if (first) {
      event.preventDefault();
      first.focus();
    }
  });
})();
