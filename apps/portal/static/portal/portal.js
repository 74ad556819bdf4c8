// The portal's only script besides htmx. The Content-Security-Policy forbids inline scripts and inline
// event handlers, so behaviour is attached here from data attributes:
//   data-confirm="Question?"  on a button or link: ask first, and do nothing unless confirmed.
//   data-print                on a button: print the page.
// The main navigation's groups are <details> menus that work without this file; here, opening one closes
// the others, and a click elsewhere or Escape closes them.
"use strict";
function closeNavGroups(except) {
  document.querySelectorAll("details.navgroup[open]").forEach(function (group) {
    if (group !== except) group.removeAttribute("open");
  });
}
document.addEventListener("toggle", function (event) {
  var group = event.target;
  if (group instanceof Element && group.matches("details.navgroup") && group.open) closeNavGroups(group);
}, true);
document.addEventListener("keydown", function (event) {
  if (event.key === "Escape") closeNavGroups(null);
});
document.addEventListener("click", function (event) {
  var target = event.target instanceof Element ? event.target : null;
  if (!target) return;
  if (!target.closest("details.navgroup")) closeNavGroups(null);
  var confirming = target.closest("[data-confirm]");
  if (confirming && !window.confirm(confirming.getAttribute("data-confirm"))) {
    event.preventDefault();
    event.stopImmediatePropagation();
    return;
  }
  if (target.closest("[data-print]")) {
    event.preventDefault();
    window.print();
  }
}, true);
