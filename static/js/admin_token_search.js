// The admin's token list: a whole token pasted into the search box must never become a GET
// (the URL, the browser's history, proxy and server logs). Send it instead by POST to "Find a
// leaked token" (the hidden form in admin/access_tokens/accesstoken/change_list.html). Without
// this script the server refuses such a search and redirects to the list without it.
"use strict";

// The listener sits on the document from the moment this script runs (in the page's head), so
// a search sent the instant the box appears, before the page has finished loading, is caught too.
document.addEventListener("submit", (event) => {
  const search = event.target;
  const finder = document.getElementById("find-leaked-post");
  if (search.id !== "changelist-search" || !finder) return;
  // As the server judges it (access_tokens/admin.py): a token anywhere in the text, or
  // something long that starts like one.
  const tokenShaped = (text) =>
    /kspat_[0-9A-Za-z]{49}(?![0-9A-Za-z])/.test(text) || (text.startsWith("kspat_") && text.length >= 40);
  const box = search.querySelector("input[name=q]");
  const text = box ? box.value.trim() : "";
  if (!tokenShaped(text)) return;
  event.preventDefault();
  finder.querySelector("input[name=token]").value = text;
  box.value = "";
  finder.submit();
});
