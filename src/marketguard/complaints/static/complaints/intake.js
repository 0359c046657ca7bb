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
