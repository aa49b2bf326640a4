/* feedhub reader: keyboard shortcuts and in-place read/star toggles.
 * Progressive enhancement only: every action is also a link or a form that works
 * without this file. No inline script anywhere, so the CSP can forbid it. */
(function () {
  "use strict";

  var current = -1;

  function stories() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-story-list] [data-story-id]"));
  }

  function storyPage() {
    return document.querySelector(".story-page[data-story-id]");
  }

  function select(index) {
    var list = stories();
    if (!list.length) { return; }
    index = Math.max(0, Math.min(index, list.length - 1));
    if (current >= 0 && list[current]) { list[current].classList.remove("is-current"); }
    current = index;
    var story = list[current];
    story.classList.add("is-current");
    var link = story.querySelector("[data-open]");
    if (link) { link.focus({ preventScroll: true }); }
    story.scrollIntoView({ block: "nearest" });
  }

  function selected() {
    var page = storyPage();
    if (page) { return page; }
    var list = stories();
    if (current < 0) {
      var focused = document.activeElement && document.activeElement.closest("[data-story-id]");
      if (focused) { current = list.indexOf(focused); }
    }
    return current >= 0 ? list[current] : null;
  }

  function follow(selector) {
    var link = document.querySelector(selector);
    if (link) { window.location.href = link.href; }
  }

  function updateToggle(form, field, value) {
    var input = form.querySelector('input[name="' + field + '"]');
    var button = form.querySelector("button[data-action]");
    input.value = value ? "0" : "1";
    button.setAttribute("aria-pressed", value ? "true" : "false");
    button.textContent = value ? button.getAttribute("data-label-on") : button.getAttribute("data-label-off");
    if (field === "read") {
      var story = form.closest("[data-story-id]");
      if (story) { story.classList.toggle("is-read", value); }
    }
  }

  function sendToggle(form) {
    var button = form.querySelector("button[data-action]");
    var field = button.getAttribute("data-action") === "star" ? "starred" : "read";
    var body = new FormData(form);
    button.disabled = true;
    fetch(form.action, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    }).then(function (data) {
      updateToggle(form, field, Boolean(data[field]));
    }).catch(function () {
      form.submit();
    }).finally(function () {
      button.disabled = false;
    });
  }

  function submitAction(story, action) {
    if (!story) { return; }
    var button = story.querySelector('button[data-action="' + action + '"]');
    if (button) { sendToggle(button.form); }
  }

  function showHelp() {
    var dialog = document.getElementById("shortcut-help");
    if (dialog && typeof dialog.showModal === "function") {
      if (!dialog.open) { dialog.showModal(); }
      return true;
    }
    return false;
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var button = form.querySelector && form.querySelector('button[data-action="star"], button[data-action="read"]');
    if (!button || !window.fetch) { return; }
    event.preventDefault();
    sendToggle(form);
  });

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest('[data-shortcut="help"]');
    if (link && showHelp()) { event.preventDefault(); }
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) { return; }
    var target = event.target;
    if (target.closest && target.closest("input, textarea, select, [contenteditable], dialog[open]")) { return; }
    var story;
    switch (event.key) {
      case "j":
        if (storyPage()) { follow("[data-next]"); } else { select(current + 1); }
        break;
      case "k":
        if (storyPage()) { follow("[data-prev]"); } else { select(current < 0 ? 0 : current - 1); }
        break;
      case "o":
      case "Enter":
        if (event.key === "Enter" && target.closest && target.closest("a, button")) { return; }
        story = selected();
        if (story && !storyPage()) {
          var open = story.querySelector("[data-open]");
          if (open) { window.location.href = open.href; }
        }
        break;
      case "v":
        story = selected();
        if (story && story.getAttribute("data-original")) {
          window.open(story.getAttribute("data-original"), "_blank", "noopener,noreferrer");
        }
        break;
      case "s":
        submitAction(selected(), "star");
        break;
      case "m":
        submitAction(selected(), "read");
        break;
      case "A":
        var markAll = document.querySelector('button[data-action="mark-all"]');
        if (markAll) { markAll.form.requestSubmit(markAll); }
        break;
      case "/":
        var search = document.querySelector('[data-shortcut="search"]');
        if (search) { search.focus(); search.select(); }
        break;
      case "?":
        showHelp();
        break;
      default:
        return;
    }
    event.preventDefault();
  });
})();
