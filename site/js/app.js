// Small progressive enhancements for the example site: every feature checks that its element exists,
// so the same script serves both pages without errors.
(function () {
  "use strict";

  var THEME_KEY = "staticd-theme";

  function readStoredTheme() {
    // Storage can be unavailable (privacy modes, sandboxed frames): a missing preference is not an error.
    try {
      return window.localStorage.getItem(THEME_KEY);
    } catch (e) {
      return null;
    }
  }

  function storeTheme(theme) {
    try {
      window.localStorage.setItem(THEME_KEY, theme);
    } catch (e) {
      /* preference simply not remembered */
    }
  }

  function applyTheme(theme, button) {
    var dark = theme === "dark";
    document.documentElement.setAttribute("data-theme", dark ? "dark" : "light");
    if (button) {
      button.setAttribute("aria-pressed", dark ? "true" : "false");
      button.textContent = dark ? "Light theme" : "Dark theme";
    }
  }

  function setUpThemeToggle() {
    var button = document.getElementById("theme-toggle");
    applyTheme(readStoredTheme() || "light", button);
    if (!button) {
      return;
    }
    button.addEventListener("click", function () {
      var next = document.documentElement.getAttribute("data-theme") === "dark" ? "light" : "dark";
      applyTheme(next, button);
      storeTheme(next);
    });
  }

  function markCurrentPage() {
    var here = window.location.pathname.split("/").pop() || "index.html";
    var links = document.querySelectorAll("nav a");
    for (var i = 0; i < links.length; i++) {
      if (links[i].getAttribute("href") === here) {
        links[i].setAttribute("aria-current", "page");
      }
    }
  }

  function formatSeconds(seconds) {
    if (!isFinite(seconds)) {
      return "0.0 s";
    }
    return seconds.toFixed(1) + " s";
  }

  function setUpVideoStatus() {
    var video = document.getElementById("demo-video");
    var status = document.getElementById("video-status");
    if (!video || !status) {
      return;
    }
    function show(state) {
      status.textContent = state + " at " + formatSeconds(video.currentTime) +
        " of " + formatSeconds(video.duration) + ".";
    }
    video.addEventListener("loadedmetadata", function () { show("Ready"); });
    video.addEventListener("playing", function () { show("Playing"); });
    video.addEventListener("pause", function () { show("Paused"); });
    video.addEventListener("seeked", function () { show("Seeked"); });
    video.addEventListener("ended", function () { show("Ended"); });
  }

  function fillCurlExample() {
    var code = document.getElementById("curl-example");
    if (code && (window.location.protocol === "http:" || window.location.protocol === "https:")) {
      code.textContent = "curl -I " + window.location.origin + "/index.html";
    }
  }

  function showLoadTime() {
    var span = document.getElementById("loaded-at");
    if (span) {
      span.textContent = "page loaded " + new Date().toLocaleTimeString();
    }
  }

  setUpThemeToggle();
  markCurrentPage();
  setUpVideoStatus();
  fillCurlExample();
  showLoadTime();
})();
