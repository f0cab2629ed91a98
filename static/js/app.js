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
