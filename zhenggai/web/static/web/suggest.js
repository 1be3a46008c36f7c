// Asking as one types, with an input method too: the submit page's text (likely existing
// problems) and the desk's problem search. An input method (拼音, 五笔…) sends `input`
// events while a word is being composed and `compositionend` when it is chosen; `keyup` it
// often does not send at all. So: ask after a pause in typing, never in the middle of a
// composition, and once more when a composition ends. This file only fires `suggest` on
// the field; htmx posts it (typed text never goes in a URL).
(function () {
  "use strict";
  function watch(field) {
    var composing = false, timer = null, last = field.value;
    function ask() {
      clearTimeout(timer);
      timer = setTimeout(function () {
        if (composing || field.value === last) { return; }
        last = field.value;
        field.dispatchEvent(new CustomEvent("suggest", {bubbles: true}));
      }, 350);
    }
    if (field.tagName === "INPUT") {  // Enter asks now, and does not submit the form around it
      field.addEventListener("keydown", function (ev) {
        if (ev.key !== "Enter" || ev.isComposing || composing) { return; }
        ev.preventDefault();
        last = null;
        ask();
      });
    }
    field.addEventListener("compositionstart", function () { composing = true; clearTimeout(timer); });
    field.addEventListener("compositionend", function () { composing = false; ask(); });
    field.addEventListener("input", function (ev) {
      if (ev.isComposing || composing) { return; }
      ask();
    });
  }
  var fields = document.querySelectorAll("#id_text, [data-suggest]");
  for (var i = 0; i < fields.length; i++) { watch(fields[i]); }
  // The desk: when the ticked opinions change, `ticks` on [data-ticks] (it ranks the
  // problems to add them to), once the clerk pauses.
  var ticks = null;
  document.addEventListener("change", function (ev) {
    if (!ev.target.matches || !ev.target.matches("input.pick")) { return; }
    clearTimeout(ticks);
    ticks = setTimeout(function () {
      var to = document.querySelector("[data-ticks]");
      if (to) { to.dispatchEvent(new CustomEvent("ticks")); }
    }, 250);
  });
})();
