// The account tree of the Django admin, indented by each account's level. django-mptt's own
// indent is a style attribute, which the Content-Security-Policy refuses; a style set from a
// script is allowed.
document.addEventListener("DOMContentLoaded", () => {
  for (const title of document.querySelectorAll("[data-tree-indent]")) {
    title.style.textIndent = `${title.dataset.treeIndent}px`;
  }
});
