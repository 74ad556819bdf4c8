// The portal's only script besides htmx. The Content-Security-Policy forbids inline scripts and inline
// event handlers, so behaviour is attached here from data attributes:
//   data-confirm="Question?"  on a button or link: ask first, and do nothing unless confirmed.
//   data-print                on a button: print the page.
"use strict";
document.addEventListener("click", function (event) {
  var target = event.target instanceof Element ? event.target : null;
  if (!target) return;
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
