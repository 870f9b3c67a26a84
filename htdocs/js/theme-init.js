// Applies the stored theme choice before the first paint (a classic script so it runs before the
// body renders; the CSP forbids inline script). Without a choice the CSS follows
// prefers-color-scheme.
(function () {
  try {
    var t = window.localStorage.getItem("bw-theme");
    if (t === "light" || t === "dark") document.documentElement.setAttribute("data-theme", t);
  } catch (e) {
    /* storage disabled: follow the system */
  }
})();
