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

// widget: the Contacts widget's Roles disclosure counts the ticked roles in its summary.
function countChosenRoles(details) {
  const chosen = details.querySelectorAll('input[name="role"]:checked').length;
  let note = details.querySelector(".roles-chosen");
  if (!note) {
    note = document.createElement("span");
    note.className = "roles-chosen";
    details.querySelector("summary").append(" ", note);
  }
  note.textContent = chosen ? `(${chosen} chosen)` : "";
}
document.addEventListener("change", (event) => {
  const details = event.target.closest(".roles-filter");
  if (details) countChosenRoles(details);
});

// widget: a chip of the Contacts widget's Roles (a plain link that drops the role) unticks its
// box and applies the filter form, which htmx sends: the boxes and the list stay in step.
document.addEventListener("click", (event) => {
  const chip = event.target.closest("[data-drop-role]");
  const form = document.querySelector("form.widget-filters");
  if (!chip || !form || !window.htmx) return;
  const box = form.querySelector(`input[name="role"][value="${chip.dataset.dropRole}"]`);
  if (!box) return;
  event.preventDefault();
  box.checked = false;
  countChosenRoles(box.closest(".roles-filter"));
  form.requestSubmit();
  // The chip goes away with the list's refresh: focus stays with the Roles.
  form.querySelector(".roles-filter > summary")?.focus();
});

// bulk (issue 15): the Contacts widget's row selection and inline editor.
// "Select all on this page" ticks the page's rows; the bar counts the rows ticked.
function bulkRows() {
  return document.querySelectorAll('input[type="checkbox"][name="contact"][form="bulk-form"]');
}
function syncBulkSelection() {
  const rows = [...bulkRows()];
  const ticked = rows.filter((row) => row.checked).length;
  const all = document.querySelector("[data-select-page]");
  if (all) {
    all.checked = rows.length > 0 && ticked === rows.length;
    all.indeterminate = ticked > 0 && ticked < rows.length;
  }
  const matching = document.querySelector("[data-select-matching]");
  const count = document.querySelector("[data-bulk-count]");
  if (count) {
    count.textContent = matching?.checked ? "(all matching)" : ticked ? `(${ticked} selected)` : "";
  }
}
document.addEventListener("change", (event) => {
  if (event.target.matches("[data-select-page], [data-select-matching]")) {
    for (const row of bulkRows()) row.checked = event.target.checked;
  } else if (!event.target.matches('[name="contact"][form="bulk-form"]')) {
    return;
  }
  // A row unticked (alone or with the page's) is no longer "all matching": the server would
  // otherwise act on every matching row, the unticked one too.
  const matching = document.querySelector("[data-select-matching]");
  if (matching && !event.target.checked && event.target !== matching) matching.checked = false;
  syncBulkSelection();
});

// Escape in a row's inline editor cancels it.
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  const editor = event.target.closest?.("[data-inline-editor]");
  if (editor) {
    event.preventDefault();
    editor.querySelector("[data-inline-cancel]")?.click();
  }
});

// An inline editor opens with its first field focused; a row back from it (saved or
// cancelled) gives focus back to its Edit link, also after the list refreshes around it.
let bulkLastEdited = null;
document.addEventListener("htmx:load", (event) => {
  const element = event.detail.elt;
  if (element.matches?.("[data-inline-editor]")) {
    element.querySelector("[autofocus]")?.focus();
    return;
  }
  if (element.matches?.("tr[data-restored]")) bulkLastEdited = element.id;
  const row = bulkLastEdited && document.getElementById(bulkLastEdited);
  if (row && element.contains(row)) {
    row.querySelector("[data-inline-edit]")?.focus();
    if (element !== row) bulkLastEdited = null;
  }
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
  if (event.key !== "Escape" || event.defaultPrevented) return;
  const menu = document.querySelector("details.nav-menu[open]");
  // Only an Escape within the menu: elsewhere it belongs to what has the focus (an inline
  // editor, a type-ahead, a dialog).
  if (!menu || !menu.contains(event.target)) return;
  menu.open = false;
  menu.querySelector("summary").focus();
});

// people (issue 15): the contact picker of the task and touchpoint forms
// (templates/contacts/widgets/contact_picker.html). A pick from the type-ahead adds a chip (a
// checked checkbox the form sends); a chip's button, or Backspace/Delete on it, removes it.
(() => {
  const say = (picker, words) => {
    const status = picker.querySelector("[data-picker-status]");
    if (status) status.textContent = words;
  };

  const addChip = (picker, id, label) => {
    const chips = picker.querySelector("[data-picker-chips]");
    const name = picker.dataset.name;
    if (chips.querySelector(`input[name="${name}"][value="${id}"]`)) {
      say(picker, `${label} is chosen already.`);
      return;
    }
    const boxId = `${picker.dataset.idPrefix}_${id}`;
    const chip = document.createElement("li");
    chip.className = "chip";
    chip.dataset.chip = "";
    const box = Object.assign(document.createElement("input"), {
      type: "checkbox", name, value: id, id: boxId, checked: true,
    });
    const text = Object.assign(document.createElement("label"), {
      className: "chip-label", htmlFor: boxId, textContent: label,
    });
    const remove = Object.assign(document.createElement("button"), {
      type: "button", className: "chip-remove-button", textContent: "×",
    });
    remove.dataset.chipRemove = "";
    remove.setAttribute("aria-label", `Remove ${label}`);
    chip.append(box, " ", text, " ", remove);
    chips.append(chip);
    say(picker, `Added ${label}.`);
  };

  const removeChip = (button) => {
    const picker = button.closest("[data-contact-picker]");
    const chip = button.closest("[data-chip]");
    const label = chip.querySelector("label")?.textContent ?? "";
    // Focus goes to the next chip's button, else the previous one's, else the search field.
    const next = chip.nextElementSibling ?? chip.previousElementSibling;
    chip.remove();
    (next?.querySelector("[data-chip-remove]") ?? picker.querySelector("auto-complete input"))?.focus();
    say(picker, `Removed ${label}.`);
  };

  document.addEventListener("combobox-commit", (event) => {
    const option = event.target.closest("[data-contact-id]");
    const picker = option?.closest("auto-complete")?.closest("[data-contact-picker]");
    if (!picker) return;
    addChip(picker, option.dataset.contactId, option.dataset.contactLabel);
    const input = picker.querySelector("auto-complete input");
    // The element has put the option's text into the field (its listener runs first, on the
    // list): empty it for the next one.
    input.value = "";
    input.focus();
  });

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-contact-picker] [data-chip-remove]");
    if (button) removeChip(button);
  });

  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if (!(target instanceof Element) || !target.closest("[data-contact-picker]")) return;
    if (target.matches("[data-chip-remove]") && (event.key === "Backspace" || event.key === "Delete")) {
      event.preventDefault();
      removeChip(target);
    } else if (target.matches("auto-complete input") && event.key === "Enter") {
      // Enter picks a suggestion; it never sends the form from the search field.
      event.preventDefault();
    } else if (target.matches("auto-complete input") && event.key === "Backspace" && !target.value) {
      // Backspace in the empty field goes to the last chip, as in a mail program's To field.
      const last = target.closest("[data-contact-picker]").querySelector("[data-chip]:last-child [data-chip-remove]");
      if (last) { event.preventDefault(); last.focus(); }
    }
  });
})();
