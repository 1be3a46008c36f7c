// The summarising desk from the keyboard (a file: the Content-Security-Policy allows no
// inline script). Keys act on the current group (the one with the "current" class):
//   J or N next group, K previous; A accept it as a new problem; E edit its summary (Enter
//   accepts); M put it into the existing problem chosen; S skip it; 1-9 mark an opinion of
//   it and X split the marked one off; ] and [ the next and previous page of groups.
// Every decision is the group's own form, posted by htmx; the answer replaces #proposals.
(function () {
  "use strict";
  var current = 0, marked = null, busy = false;

  function cards() { return Array.prototype.slice.call(document.querySelectorAll("#proposals [data-proposal]")); }

  function show(i) {
    var cs = cards();
    if (!cs.length) { return; }
    current = Math.max(0, Math.min(i, cs.length - 1));
    cs.forEach(function (c, j) { c.classList.toggle("current", j === current); });
    marked = null;
    cs[current].querySelectorAll("li.marked").forEach(function (li) { li.classList.remove("marked"); });
    cs[current].focus({preventScroll: true});
    cs[current].scrollIntoView({block: "nearest"});
  }

  function press(card, selector) {
    var b = card && card.querySelector(selector);
    if (b && !busy) { b.click(); return true; }
    return false;
  }

  function follow(selector) {
    var a = document.querySelector("#proposals " + selector);
    if (a) { current = 0; a.click(); }
  }

  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || ev.isComposing) { return; }
    var t = ev.target, typing = t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable);
    if (typing) {
      if (ev.key === "Escape") { t.blur(); }
      return;
    }
    var cs = cards(), card = cs[current], k = ev.key.toLowerCase(), done = true;
    if (k === "j" || k === "n") { show(current + 1); }
    else if (k === "k") { show(current - 1); }
    else if (k === "a") { press(card, "button[value=accept]"); }
    else if (k === "m") { press(card, "button[value=into]"); }
    else if (k === "s") { press(card, "button[value=skip]"); }
    else if (k === "e") { var f = card && card.querySelector("[data-summary]"); if (f) { f.focus(); f.select(); } }
    else if (k === "x") { if (marked) { press(card, "li.marked button[name=split]"); } }
    else if (k === "]") { follow("[data-next]"); }
    else if (k === "[") { follow("[data-prev]"); }
    else if (/^[1-9]$/.test(k) && card) {
      var lis = card.querySelectorAll("li[data-opinion]"), li = lis[Number(k) - 1];
      if (li) {
        lis.forEach(function (x) { x.classList.remove("marked"); });
        if (marked === li) { marked = null; } else { li.classList.add("marked"); marked = li; }
      }
    } else { done = false; }
    if (done) { ev.preventDefault(); }
  });

  // A click on a group makes it the current one.
  document.addEventListener("click", function (ev) {
    var c = ev.target.closest && ev.target.closest("#proposals [data-proposal]");
    if (c) {
      var i = cards().indexOf(c);
      if (i !== current) { show(i); }
    }
  });

  document.addEventListener("htmx:beforeRequest", function (ev) {
    if (ev.target.closest && ev.target.closest("#proposals")) { busy = true; }
  });
  // A conflict (409: another clerk was first) or a refused decision (422) still shows its
  // answer: the groups afresh with the message.
  document.addEventListener("htmx:beforeSwap", function (ev) {
    // The browser puts an empty style on filled-in inputs; htmx would copy it onto the new
    // ones, which the Content-Security-Policy refuses: settle classes only.
    if (window.htmx) { window.htmx.config.attributesToSettle = ["class", "width", "height"]; }
    var s = ev.detail.xhr.status;
    if ((s === 409 || s === 422 || s === 400) && ev.detail.target && ev.detail.target.id === "proposals") {
      ev.detail.shouldSwap = true;
      ev.detail.isError = false;
    }
  });
  document.addEventListener("htmx:afterSettle", function (ev) {
    busy = false;
    if (document.getElementById("proposals") && ev.detail.target && (ev.detail.target.id === "proposals" || ev.target.id === "proposals")) {
      show(current);
    }
  });
  document.addEventListener("htmx:afterRequest", function () { busy = false; });
  document.addEventListener("DOMContentLoaded", function () { show(0); });
})();
