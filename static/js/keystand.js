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
  // The button holds both labels, one hidden, so "Copied" never changes its width (and the
  // field's); it says "Copy" again after 2 seconds, ready for a second copy.
  for (const button of document.querySelectorAll("[data-copy]")) {
    const field = document.querySelector(button.dataset.copy);
    if (!field) continue;
    const status = button.dataset.copyStatus ? document.querySelector(button.dataset.copyStatus) : null;
    let timer = null;
    // CSS shows one label and hides the other (visibility: hidden also drops it from the
    // button's accessible name).
    const show = (copied) => button.classList.toggle("is-copied", copied);
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
      clearTimeout(timer);
      show(copied);
      if (status) {
        status.textContent = copied
          ? "Copied to the clipboard."
          : "Your browser did not let the page copy: the token is selected, press Ctrl+C (⌘C on a Mac).";
        status.classList.toggle("visually-hidden", copied);
      }
      if (copied) timer = setTimeout(() => show(false), 2000);
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
      for (const key of ["tokenName", "tokenMasked", "tokenCreated"]) {
        const slot = dialog.querySelector(`[data-${key.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase())}]`);
        if (slot) slot.textContent = link.dataset[key] || "";
      }
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

  // Flash messages can be dismissed (without JavaScript they simply stay). Focus moves to the
  // next message's button, or to the main content, so keyboard users are not left nowhere.
  // The one-time token box is not a message and has no such button: closing it by accident
  // would lose the token for good.
  for (const button of document.querySelectorAll("[data-dismiss-message]")) {
    button.hidden = false;
    button.addEventListener("click", () => {
      const item = button.closest("li");
      const list = item.parentElement;
      const next = item.nextElementSibling || item.previousElementSibling;
      item.remove();
      if (next) {
        next.querySelector("[data-dismiss-message]").focus();
      } else {
        list.remove();
        document.querySelector("main").focus();
      }
    });
  }

  // A second click on a submit button while the first request is under way does nothing.
  for (const button of document.querySelectorAll("[data-submit-once]")) {
    button.form.addEventListener("submit", () => {
      setTimeout(() => { button.disabled = true; }, 0);
    });
  }
});
