/* Keys for scoring without the mouse (grading/_keys.html names them); the page works without
   them. Digits 1-9 choose that level of the current criterion and move on to the next one; n and
   p open the next and the previous work. Keys typed into a text field stay there. */
(() => {
  "use strict";

  const criteria = Array.from(document.querySelectorAll("fieldset.criterion"));
  let current = 0;
  const typing = (element) => element instanceof HTMLElement && (
    element.isContentEditable || element.tagName === "TEXTAREA" || element.tagName === "SELECT" ||
    (element.tagName === "INPUT" && !["radio", "checkbox", "button", "submit"].includes(element.type)));
  const mark = (index) => {
    current = index;
    criteria.forEach((criterion, at) => criterion.classList.toggle("current", at === index));
  };
  const enter = (index) => {
    const criterion = criteria[index];
    mark(index);
    const target = criterion.querySelector("input:checked") || criterion.querySelector("input, textarea");
    if (target) target.focus();
  };
  document.addEventListener("focusin", (event) => {
    const criterion = event.target.closest && event.target.closest("fieldset.criterion");
    if (criterion) mark(criteria.indexOf(criterion));
  });
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    if (/^[1-9]$/.test(event.key) && criteria.length) {
      const level = criteria[current].querySelectorAll("input[type=radio]")[Number(event.key) - 1];
      if (!level) return;
      event.preventDefault();
      level.checked = true;
      enter(Math.min(current + 1, criteria.length - 1));
    } else if (event.key === "n" || event.key === "p") {
      const link = document.querySelector(event.key === "n" ? "a[rel=next]" : "a[rel=prev]");
      if (!link) return;
      event.preventDefault();
      window.location.assign(link.href);
    }
  });
  if (criteria.length) mark(0);
})();
