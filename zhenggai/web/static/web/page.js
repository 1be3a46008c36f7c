// Small page behaviours, loaded as a file: the Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  document.addEventListener("click", function (ev) {
    var b = ev.target.closest("[data-print]");
    if (b) { window.print(); }
  });
  var copy = document.getElementById("copy");
  if (copy) {
    copy.addEventListener("click", function () {
      var b = this, code = document.getElementById("receipt").textContent.trim();
      function ok() { b.textContent = b.dataset.done; }
      if (navigator.clipboard && window.isSecureContext) { navigator.clipboard.writeText(code).then(ok); return; }
      var r = document.createRange(); r.selectNodeContents(document.getElementById("receipt"));
      var s = window.getSelection(); s.removeAllRanges(); s.addRange(r);
      try { document.execCommand("copy"); ok(); } catch (e) {}
    });
  }
})();
