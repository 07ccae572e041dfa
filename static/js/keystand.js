// Small enhancements; every page works without them.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // User menu (<details>): close on Escape and on a click outside.
  for (const menu of document.querySelectorAll("[data-menu]")) {
    const summary = menu.querySelector("summary");
    menu.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && menu.open) {
        menu.open = false;
        summary.focus();
        return;
      }
      // role="menu" promises arrow keys to screen-reader users; Tab keeps working as well.
      const items = [...menu.querySelectorAll("[role=menuitem]")];
      const at = items.indexOf(document.activeElement);
      if (!menu.open || at === -1) return;
      const next = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: items.length - 1 }[event.key];
      if (next === undefined) return;
      event.preventDefault();
      items[(next + items.length) % items.length].focus();
    });
    document.addEventListener("click", (event) => {
      if (menu.open && !menu.contains(event.target)) menu.open = false;
    });
    menu.addEventListener("toggle", () => {
      if (menu.open) {
        const first = menu.querySelector("[role=menuitem]");
        if (first && document.activeElement === summary && summary.matches(":focus-visible")) first.focus();
      }
    });
  }

  // Copy buttons. navigator.clipboard exists only in secure contexts (HTTPS or localhost);
  // over plain HTTP elsewhere, copying the selected field with execCommand still works.
  for (const button of document.querySelectorAll("[data-copy]")) {
    const field = document.querySelector(button.dataset.copy);
    if (!field) continue;
    button.hidden = false;
    button.addEventListener("click", async () => {
      let copied = false;
      try {
        if (navigator.clipboard) {
          await navigator.clipboard.writeText(field.value);
          copied = true;
        }
      } catch {
        copied = false;
      }
      if (!copied) {
        field.focus();
        field.select();
        try {
          copied = document.execCommand("copy");
        } catch {
          copied = false;
        }
      }
      button.textContent = copied ? "Copied" : "Press Ctrl+C to copy";
    });
  }
  for (const field of document.querySelectorAll("[data-select-on-focus]")) {
    field.addEventListener("focus", () => field.select());
  }

  // Delete confirmation in a <dialog>; without JavaScript the link opens a confirmation page.
  for (const link of document.querySelectorAll("[data-delete-dialog]")) {
    const dialog = document.querySelector(link.dataset.deleteDialog);
    if (!dialog || typeof dialog.showModal !== "function") continue;
    link.addEventListener("click", (event) => {
      event.preventDefault();
      dialog.querySelector("[data-token-name]").textContent = link.dataset.tokenName;
      dialog.querySelector("[data-dialog-form]").action = link.href;
      dialog.returnFocusTo = link;
      dialog.showModal();
      dialog.querySelector("[data-dialog-cancel]").focus();
    });
  }
  for (const dialog of document.querySelectorAll("dialog")) {
    const cancel = dialog.querySelector("[data-dialog-cancel]");
    if (cancel) cancel.addEventListener("click", () => dialog.close());
    dialog.addEventListener("close", () => {
      if (dialog.returnFocusTo) dialog.returnFocusTo.focus();
    });
  }

  // A second click on a submit button while the first request is under way does nothing.
  for (const button of document.querySelectorAll("[data-submit-once]")) {
    button.form.addEventListener("submit", () => {
      setTimeout(() => { button.disabled = true; }, 0);
    });
  }
});
