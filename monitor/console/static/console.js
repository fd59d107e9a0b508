// monitor's console: conveniences only; every page reads and every form works without it.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // the filters apply as soon as a choice changes
  const filters = document.querySelector("form.filters");
  if (filters) {
    filters.querySelectorAll("select").forEach((s) =>
      s.addEventListener("change", () => filters.requestSubmit()));
  }
  // a wrong or missed verdict's form opens with its reason field ready
  document.querySelectorAll("details").forEach((d) =>
    d.addEventListener("toggle", () => {
      const first = d.open && d.querySelector("input[name=reason]");
      if (first) first.focus();
    }));
});
