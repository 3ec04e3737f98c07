/* Countdowns to deadlines: each element with a data-deadline (an ISO moment) says how long is
   left, in the words the server wrote ("in 2 days 4 hours"), and keeps saying it as time passes.
   The clock is the site's: the closest data-now says when the page was made, so a wrong clock
   on the student's machine does not move the deadlines. */
(function () {
  "use strict";

  var UNITS = [["day", 86400], ["hour", 3600], ["minute", 60], ["second", 1]];

  function words(seconds) {
    if (seconds <= 0) {
      return "due now";
    }
    for (var index = 0; index < UNITS.length; index++) {
      if (seconds >= UNITS[index][1]) {
        var parts = [];
        UNITS.slice(index, index + 2).forEach(function (unit) {
          var amount = Math.floor(seconds / unit[1]);
          seconds -= amount * unit[1];
          if (amount) {
            parts.push(amount + " " + unit[0] + (amount === 1 ? "" : "s"));
          }
        });
        return "in " + parts.join(" ");
      }
    }
    return "due now";
  }

  var countdowns = Array.prototype.map.call(
    document.querySelectorAll("[data-deadline]"),
    function (element) {
      var page = element.closest("[data-now]");
      var skew = page ? Date.parse(page.dataset.now) - Date.now() : 0;
      return { element: element, deadline: Date.parse(element.dataset.deadline), skew: skew || 0 };
    }
  ).filter(function (countdown) { return !isNaN(countdown.deadline); });

  function tick() {
    countdowns.forEach(function (countdown) {
      var left = Math.floor((countdown.deadline - (Date.now() + countdown.skew)) / 1000);
      var text = words(left);
      if (countdown.element.textContent !== text) {
        countdown.element.textContent = text;
      }
    });
    setTimeout(tick, 1000 - (Date.now() % 1000));
  }

  if (countdowns.length) {
    tick();
  }
})();
