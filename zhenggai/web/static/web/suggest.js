// Likely existing problems while typing (submit page). An input method (拼音, 五笔…) sends
// `input` events while a word is being composed and `compositionend` when it is chosen;
// `keyup` it often does not send at all. So: ask after a pause in typing, never in the
// middle of a composition, and once more when a composition ends. htmx posts the text
// (never in a URL) when this file fires `suggest` on the text field.
(function () {
  "use strict";
  var field = document.getElementById("id_text");
  if (!field) { return; }
  var composing = false, timer = null, last = null;
  function ask() {
    clearTimeout(timer);
    timer = setTimeout(function () {
      if (composing || field.value === last) { return; }
      last = field.value;
      field.dispatchEvent(new CustomEvent("suggest", {bubbles: true}));
    }, 350);
  }
  field.addEventListener("compositionstart", function () { composing = true; clearTimeout(timer); });
  field.addEventListener("compositionend", function () { composing = false; ask(); });
  field.addEventListener("input", function (ev) {
    if (ev.isComposing || composing) { return; }
    ask();
  });
})();
