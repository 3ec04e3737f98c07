/* Taking a quiz attempt: each answer is saved through the API as it is typed (600 ms after the
   last key, and at once on a change or when the field is left), a derivation is uploaded when it
   is chosen, the time left counts down to the attempt's deadline, and the attempt is submitted
   when it reaches zero. Without this script the page still works: its form posts every answer
   with Submit.

   A save that cannot reach the site says so under its question and in a banner; the answer is
   sent again with the next change and before the attempt is submitted. Saves of one question go
   one after the other, so that an older answer never overwrites a newer one. */
(function () {
  "use strict";

  var form = document.getElementById("attempt-form");
  if (!form) {
    return;
  }
  var DEBOUNCE_MS = 600;
  var WARNINGS = [5 * 60 * 1000, 60 * 1000];
  var api = form.dataset.api;
  var banner = document.getElementById("connection-lost");
  var questions = [];
  var leaving = false;
  var expired = false;
  var attemptOver = false;

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) {
      return decodeURIComponent(match[1]);
    }
    return form.querySelector("input[name=csrfmiddlewaretoken]").value;
  }

  // The sentences of an API refusal: {"text": ["..."]}, {"detail": "..."} and the like.
  function sentences(body) {
    if (typeof body === "string") {
      return [body];
    }
    if (Array.isArray(body)) {
      return body.reduce(function (all, part) { return all.concat(sentences(part)); }, []);
    }
    if (body && typeof body === "object") {
      return sentences(Object.keys(body).map(function (key) { return body[key]; }));
    }
    return [];
  }

  async function refusalOf(response) {
    try {
      var body = await response.json();
      return { text: sentences(body).join(" ") || "the site answered " + response.status,
               over: Boolean(body && body.attempt) };
    } catch (error) {
      return { text: "the site answered " + response.status, over: false };
    }
  }

  function showBanner(text) {
    banner.textContent = text;
    banner.hidden = false;
  }

  function connectionCheck() {
    var lost = questions.some(function (question) { return question.offline; });
    if (lost) {
      showBanner("No connection to the site: your latest answers are not saved yet. Keep this " +
                 "page open; they are sent again with your next change and before you submit.");
    } else if (!attemptOver) {
      banner.hidden = true;
    }
  }

  // The attempt was submitted elsewhere, or its time is up: nothing more can be saved.
  function over(reason) {
    attemptOver = true;
    showBanner("This attempt is over: " + reason + " ");
    var link = document.createElement("a");
    link.href = form.dataset.quizUrl;
    link.textContent = "See your attempts.";
    banner.appendChild(link);
    form.querySelectorAll("input, button").forEach(function (field) { field.disabled = true; });
  }

  function Question(fieldset) {
    this.key = fieldset.dataset.key;
    this.kind = fieldset.dataset.kind;
    this.fieldset = fieldset;
    this.state = document.getElementById("state-" + this.key);
    this.timer = null;
    this.chain = Promise.resolve(true);
    this.failed = false;
    this.offline = false;
    // What the site has, as far as this page knows (of a derivation: the file last uploaded).
    this.saved = this.kind === "derivation" ? null : this.value();
  }

  Question.prototype.value = function () {
    if (this.kind === "derivation") {
      // No file chosen leaves the one handed in as it is.
      var files = this.fieldset.querySelector("input[type=file]").files;
      return files.length ? files[0] : this.saved;
    }
    if (this.kind === "choice") {
      return Array.prototype.map.call(
        this.fieldset.querySelectorAll("input:checked"),
        function (box) { return box.value; }
      ).join(",");
    }
    return this.fieldset.querySelector("input[type=text]").value;
  };

  Question.prototype.show = function (text, kind) {
    this.state.textContent = text;
    this.state.className = "save-state" + (kind ? " " + kind : "");
  };

  Question.prototype.dirty = function () {
    return this.timer !== null || this.failed || this.value() !== this.saved;
  };

  Question.prototype.typed = function () {
    clearTimeout(this.timer);
    var self = this;
    this.timer = setTimeout(function () { self.save(); }, DEBOUNCE_MS);
    this.show("saving...", "saving");
  };

  // Save now, after any save of this question still on its way; true once the site has it.
  Question.prototype.save = function () {
    clearTimeout(this.timer);
    this.timer = null;
    if (!attemptOver && (this.failed || this.value() !== this.saved)) {
      this.show(this.kind === "derivation" ? "uploading..." : "saving...", "saving");
    }
    var self = this;
    this.chain = this.chain.then(function () { return self.send(); });
    return this.chain;
  };

  Question.prototype.send = async function () {
    var value = this.value();
    if (attemptOver || (value === this.saved && !this.failed)) {
      if (!attemptOver && this.state.classList.contains("saving")) {
        this.show("saved", "saved");
      }
      return !attemptOver;
    }
    if (value === null) { // a derivation whose failed upload was taken back
      this.failed = false;
      this.show("", "");
      return true;
    }
    this.show(this.kind === "derivation" ? "uploading..." : "saving...", "saving");
    var response;
    try {
      response = await fetch(this.address(), this.request(value));
    } catch (error) {
      this.failed = this.offline = true;
      this.show("not saved: no connection to the site", "failed");
      connectionCheck();
      return false;
    }
    this.offline = false;
    connectionCheck();
    if (response.ok) {
      this.saved = value;
      this.failed = false;
      this.show(this.kind === "derivation" ? "uploaded: " + value.name : "saved", "saved");
      return true;
    }
    this.failed = true;
    var refused = await refusalOf(response);
    this.show("not saved: " + refused.text, "failed");
    if (refused.over) {
      over(refused.text);
    }
    return false;
  };

  Question.prototype.address = function () {
    var address = api + "answers/" + encodeURIComponent(this.key) + "/";
    return this.kind === "derivation" ? address + "upload/" : address;
  };

  Question.prototype.request = function (value) {
    var headers = { "X-CSRFToken": csrfToken(), "Accept": "application/json" };
    if (this.kind === "derivation") {
      var upload = new FormData();
      upload.append("upload", value);
      return { method: "POST", headers: headers, body: upload, credentials: "same-origin" };
    }
    headers["Content-Type"] = "application/json";
    return { method: "PUT", headers: headers, body: JSON.stringify({ text: value }),
             credentials: "same-origin" };
  };

  function flush() {
    return Promise.all(questions.map(function (question) { return question.save(); }))
      .then(function (saved) { return saved.every(Boolean); });
  }

  // Post the form, leaving out the files the script has uploaded already.
  function submitForm() {
    leaving = true;
    questions.forEach(function (question) {
      if (question.kind === "derivation" && question.value() === question.saved) {
        question.fieldset.querySelector("input[type=file]").disabled = true;
      }
    });
    HTMLFormElement.prototype.submit.call(form);
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    if (await flush() || expired) {
      submitForm();
    } else if (!attemptOver) {
      showBanner("Not every answer is saved (see the questions marked \u201cnot saved\u201d), so " +
                 "the attempt was not submitted. Check your connection and submit again.");
      banner.focus();
    }
  });

  form.querySelectorAll("fieldset.question").forEach(function (fieldset) {
    var question = new Question(fieldset);
    questions.push(question);
    fieldset.addEventListener("input", function (event) {
      if (event.target.type === "text") {
        question.typed();
      }
    });
    fieldset.addEventListener("change", function () { question.save(); });
    fieldset.addEventListener("focusout", function () {
      if (question.timer !== null) {
        question.save();
      }
    });
  });

  window.addEventListener("beforeunload", function (event) {
    if (!leaving && !attemptOver && questions.some(function (question) { return question.dirty(); })) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  document.getElementById("saving-note").hidden = false;

  // The countdown, on the site's clock: the page gives the site's time when it was made.
  var deadline = Date.parse(form.dataset.deadline);
  var skew = Date.parse(form.dataset.now) - Date.now();
  var countdown = document.getElementById("countdown");
  var timeLeft = document.getElementById("time-left");
  var warning = document.getElementById("time-warning");
  var warned = WARNINGS.filter(function (mark) { return deadline - (Date.now() + skew) <= mark; });

  function two(number) {
    return (number < 10 ? "0" : "") + number;
  }

  function shown(milliseconds) {
    var seconds = Math.ceil(milliseconds / 1000);
    var days = Math.floor(seconds / 86400);
    var hours = Math.floor(seconds / 3600) % 24;
    var minutes = Math.floor(seconds / 60) % 60;
    var clock = two(minutes) + ":" + two(seconds % 60);
    if (days) {
      return days + (days === 1 ? " day " : " days ") + two(hours) + ":" + clock;
    }
    return hours ? hours + ":" + clock : clock;
  }

  function tick() {
    var left = deadline - (Date.now() + skew);
    if (left <= 0) {
      expired = true;
      timeLeft.textContent = "00:00";
      warning.textContent = "Time is up: the attempt is being submitted.";
      if (!attemptOver) {
        flush().then(submitForm, submitForm);
      }
      return;
    }
    timeLeft.textContent = shown(left);
    WARNINGS.forEach(function (mark) {
      if (left <= mark && warned.indexOf(mark) < 0) {
        warned.push(mark);
        var minutes = Math.round(mark / 60000);
        warning.textContent = minutes + (minutes === 1 ? " minute" : " minutes") + " left.";
      }
    });
    countdown.classList.toggle("short", left <= WARNINGS[WARNINGS.length - 1]);
    setTimeout(tick, left % 1000 || 1000);
  }

  countdown.hidden = false;
  tick();
})();
