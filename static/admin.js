/* feedhub admin: progressive enhancements only; every page works without this file. */
(function () {
  "use strict";

  // "Select all on this page" checkbox in bulk-action tables.
  document.querySelectorAll("input.select-all").forEach(function (box) {
    box.addEventListener("change", function () {
      var form = box.closest("form");
      if (!form) { return; }
      form.querySelectorAll('input[type="checkbox"][name="ids"]').forEach(function (item) {
        item.checked = box.checked;
      });
    });
  });

  // Live rule preview: refresh the server-rendered preview while the admin types.
  var ruleForm = document.querySelector("form.rule-form[data-preview-url]");
  var target = document.getElementById("rule-preview");
  if (ruleForm && target) {
    var timer = null;
    var sequence = 0;
    var refresh = function () {
      var data = new FormData(ruleForm);
      data.delete("csrf_token");
      var params = new URLSearchParams();
      data.forEach(function (value, key) {
        if (typeof value === "string") { params.append(key, value); }
      });
      var mine = ++sequence;
      fetch(ruleForm.dataset.previewUrl + "?" + params.toString(), {
        credentials: "same-origin",
        headers: { "Accept": "text/html" }
      }).then(function (response) {
        return response.ok ? response.text() : null;
      }).then(function (html) {
        if (html !== null && mine === sequence) { target.innerHTML = html; }
      }).catch(function () { /* keep the last preview */ });
    };
    var schedule = function () {
      if (timer) { clearTimeout(timer); }
      timer = setTimeout(refresh, 400);
    };
    ruleForm.addEventListener("input", schedule);
    ruleForm.addEventListener("change", schedule);
  }
})();
