// Photo uploads, loaded as a file (the Content-Security-Policy allows no inline script).
// A photo over the limit (data-max-bytes on its input), or too many of them
// (data-max-files), is refused here, before anything is sent: the choice is cleared and the
// reason shown. A form marked data-upload that carries photos is sent with a progress bar;
// the server's answer then replaces the page as a normal submit would. Without this script
// the form still posts, and the server refuses what is too big.
(function () {
  "use strict";

  function errorBox(input) { return document.getElementById(input.id + "-error"); }

  function check(input) {
    var box = errorBox(input), max = Number(input.dataset.maxBytes || 0),
        most = Number(input.dataset.maxFiles || 0), msg = "";
    var files = Array.prototype.slice.call(input.files || []);
    if (most && files.length > most) { msg = input.dataset.tooMany; }
    files.forEach(function (f) {
      if (!msg && max && f.size > max) { msg = input.dataset.tooBig + " (" + f.name + ")"; }
    });
    if (msg) { input.value = ""; }
    if (box) { box.textContent = msg; box.hidden = !msg; }
    return !msg;
  }

  document.addEventListener("change", function (ev) {
    var input = ev.target;
    if (input.matches && input.matches("input[type=file][data-max-bytes]")) { check(input); }
  });

  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form.matches || !form.matches("form[data-upload]") || !window.XMLHttpRequest) { return; }
    var inputs = form.querySelectorAll("input[type=file][data-max-bytes]"), any = false, ok = true;
    Array.prototype.forEach.call(inputs, function (i) {
      if (!check(i)) { ok = false; }
      if (i.files && i.files.length) { any = true; }
    });
    if (!ok) { ev.preventDefault(); return; }
    if (!any) { return; }  // nothing to upload: an ordinary submit
    ev.preventDefault();
    var data = new FormData(form), by = ev.submitter;
    if (by && by.name) { data.append(by.name, by.value); }
    var bar = form.querySelector("progress");
    var buttons = form.querySelectorAll("button");
    Array.prototype.forEach.call(buttons, function (b) { b.disabled = true; });
    if (bar) { bar.hidden = false; bar.value = 0; }
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action || window.location.href);
    xhr.upload.addEventListener("progress", function (e) {
      if (bar && e.lengthComputable) { bar.value = Math.round(100 * e.loaded / e.total); }
    });
    xhr.addEventListener("load", function () {
      if (bar) { bar.value = 100; }
      // The answer (the page after the redirect, or the refusal) replaces this page.
      document.open();
      document.write(xhr.responseText);
      document.close();
      if (xhr.responseURL) { window.history.replaceState(null, "", xhr.responseURL); }
    });
    xhr.addEventListener("error", function () {
      Array.prototype.forEach.call(buttons, function (b) { b.disabled = false; });
      if (bar) { bar.hidden = true; }
      var box = inputs.length && errorBox(inputs[0]);
      if (box) { box.textContent = form.dataset.failed || "—"; box.hidden = false; }
    });
    xhr.send(data);
  });
})();
