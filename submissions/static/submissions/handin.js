// The hand-in page, livelier: a file dropped on the drop zone is handed in at once, every upload
// shows its progress, and the grading state is asked for again every two seconds while the
// hand-in is queued or running, so the page follows it without a reload. Without this script
// the form posts as usual and a Refresh link does the rest; the server answers both the same.
(function () {
  "use strict";

  var POLL_MS = 2000;
  var form = document.getElementById("handin-form");
  var state = document.getElementById("handin-state");
  var pollTimer = null;

  function currentState() {
    var marked = state && state.querySelector("[data-state]");
    return marked ? marked.getAttribute("data-state") : "";
  }

  function poll() {
    pollTimer = null;
    fetch(state.getAttribute("data-state-url"), {
      headers: { "HX-Request": "true" },
      credentials: "same-origin",
      cache: "no-store",
    })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.text();
      })
      .then(function (html) {
        // Unchanged text is left alone, so that a screen reader hears only what changed.
        if (state.innerHTML.trim() !== html.trim()) state.innerHTML = html;
        if (!waiting()) refreshHistory();
        watch();
      })
      .catch(function () {
        watch();
      });
  }

  function waiting() {
    var now = currentState();
    return now === "queued" || now === "running";
  }

  // Once grading is over, the history's row of this hand-in says so too.
  function refreshHistory() {
    fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        return response.ok ? response.text() : "";
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("history-section");
        var old = document.getElementById("history-section");
        if (fresh && old) old.replaceWith(document.importNode(fresh, true));
      })
      .catch(function () {
        // The history stays as it was; the next visit shows it right.
      });
  }

  function watch() {
    if (waiting() && pollTimer === null) {
      pollTimer = window.setTimeout(poll, POLL_MS);
    }
  }

  // Put the parts of a page the server answered with in place of this page's.
  function takeOver(html) {
    var answer = new DOMParser().parseFromString(html, "text/html");
    ["upload-error-region", "active-section", "history-section"].forEach(function (id) {
      var fresh = answer.getElementById(id);
      var old = document.getElementById(id);
      if (fresh && old) old.replaceWith(document.importNode(fresh, true));
    });
    var main = document.getElementById("main");
    var oldMessages = main.querySelector(".messages");
    var freshMessages = answer.querySelector("#main .messages");
    if (oldMessages) oldMessages.remove();
    if (freshMessages) main.insertBefore(document.importNode(freshMessages, true), main.firstChild);
    state = document.getElementById("handin-state");
    if (pollTimer !== null) {
      window.clearTimeout(pollTimer);
      pollTimer = null;
    }
    watch();
    return answer;
  }

  function showError(message) {
    var region = document.getElementById("upload-error-region");
    region.innerHTML = "";
    var box = document.createElement("div");
    box.className = "error";
    box.id = "upload-error";
    box.setAttribute("role", "alert");
    var text = document.createElement("p");
    text.textContent = message;
    box.appendChild(text);
    region.appendChild(box);
  }

  function upload(file) {
    var data = new FormData(form);
    if (file) data.set(form.querySelector("input[type=file]").name, file);
    var chosen = data.get(form.querySelector("input[type=file]").name);
    var box = document.getElementById("upload-progress");
    var bar = document.getElementById("upload-bar");
    var status = document.getElementById("upload-status");
    var button = form.querySelector("button[type=submit]");
    var name = chosen && chosen.name ? chosen.name : "your file";
    box.hidden = false;
    bar.value = 0;
    status.textContent = "Uploading " + name + ": 0%";
    button.disabled = true;

    var request = new XMLHttpRequest();
    request.open("POST", form.action || window.location.href);
    request.setRequestHeader("Accept", "text/html");
    request.upload.addEventListener("progress", function (event) {
      if (!event.lengthComputable) return;
      var percent = Math.round((100 * event.loaded) / event.total);
      bar.value = percent;
      status.textContent = "Uploading " + name + ": " + percent + "%";
    });
    request.addEventListener("load", function () {
      button.disabled = false;
      bar.value = 100;
      var type = request.getResponseHeader("Content-Type") || "";
      if (type.indexOf("text/html") === 0) {
        status.textContent =
          request.status < 400 ? "Uploaded " + name + "." : "Uploaded " + name + ", but it was refused.";
        var answer = takeOver(request.responseText);
        if (request.status < 400) {
          form.reset();
        } else if (!answer.getElementById("upload-error")) {
          // A page of its own (the request was too large, say): its words are the error.
          var said = answer.querySelector("main") || answer.body;
          showError((said.textContent || "").replace(/\s+/g, " ").trim().slice(0, 500));
        }
        return;
      }
      status.textContent = "Uploaded " + name + ", but it was refused.";
      var detail = "The upload failed (" + request.status + ").";
      try {
        detail = JSON.parse(request.responseText).detail || detail;
      } catch (ignored) {
        // Not JSON: the status says enough.
      }
      showError(detail);
    });
    request.addEventListener("error", function () {
      button.disabled = false;
      status.textContent = "The upload of " + name + " did not reach the site.";
      showError("The upload did not reach the site. Check your connection and try again.");
    });
    request.send(data);
  }

  if (form) {
    var zone = document.getElementById("dropzone");
    document.getElementById("drop-hint").hidden = false;
    zone.classList.add("ready");
    ["dragenter", "dragover"].forEach(function (kind) {
      zone.addEventListener(kind, function (event) {
        event.preventDefault();
        zone.classList.add("over");
      });
    });
    ["dragleave", "dragend"].forEach(function (kind) {
      zone.addEventListener(kind, function () {
        zone.classList.remove("over");
      });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      zone.classList.remove("over");
      var files = event.dataTransfer && event.dataTransfer.files;
      if (!files || files.length === 0) return;
      if (files.length > 1) {
        showError("Drop one file: put several files together in one .zip or .tar.gz archive.");
        return;
      }
      upload(files[0]);
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      upload(null);
    });
  }
  if (state) watch();
})();
