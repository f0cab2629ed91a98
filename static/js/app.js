// Small glue between the page, htmx and the vendored <auto-complete> element.

// Marks the page as scripted, so controls needed only without JavaScript can hide.
document.documentElement.classList.add("js");

// Content that htmx puts into a dialog opens the dialog.
document.addEventListener("htmx:afterSwap", (event) => {
  const dialog = event.detail.target.closest("dialog");
  if (dialog && !dialog.open) dialog.showModal();
  const autofocus = event.detail.target.querySelector("[autofocus]");
  if (autofocus) autofocus.focus();
});

// Buttons marked data-close-dialog close their dialog.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-close-dialog]");
  if (button) button.closest("dialog")?.close();
});

// The type-ahead's options arrive as HTML; let htmx wire their hx-get links.
document.addEventListener(
  "load",
  (event) => {
    if (event.target.tagName === "AUTO-COMPLETE" && window.htmx) window.htmx.process(event.target);
  },
  true,
);

// A select marked data-submit-on-change applies its form at once (the form's button is for
// pages without JavaScript); a form htmx drives reacts to the change itself.
document.addEventListener("change", (event) => {
  const select = event.target.closest("[data-submit-on-change]");
  if (select && select.form && !select.form.hasAttribute("hx-get")) select.form.requestSubmit();
});

// phone: a table wider than its .table-scroll box scrolls inside it; a box with nothing
// focusable in it (no link, no field) takes the focus itself, so the keyboard can scroll it
// too (axe-core's scrollable-region-focusable). Checked on load, after htmx swaps and on resize.
function focusableScrollBoxes() {
  for (const box of document.querySelectorAll(".table-scroll")) {
    const scrolls = box.scrollWidth > box.clientWidth;
    const reachable = box.querySelector("a[href], button, input, select, textarea, [tabindex]");
    if (scrolls && !reachable) box.tabIndex = 0;
    else if (box.getAttribute("tabindex") === "0" && !scrolls) box.removeAttribute("tabindex");
  }
}
document.addEventListener("DOMContentLoaded", focusableScrollBoxes);
document.addEventListener("htmx:afterSettle", focusableScrollBoxes);
window.addEventListener("resize", focusableScrollBoxes);

// phone: Escape closes the open menu (a <details>, which has no key of its own to close) and
// puts the focus back on its toggle.
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  const menu = document.querySelector("details.nav-menu[open]");
  if (!menu || document.querySelector("dialog[open]")) return;
  menu.open = false;
  menu.querySelector("summary").focus();
});
