// The rule preview, live: as the query is edited, ask the server what it would have matched
// (GET /rules/preview, a server-rendered fragment: escaping stays in the templates) and show it.
// Without JavaScript the same form submits to /rules and the page shows the same fragment.
(function () {
  "use strict";
  var form = document.getElementById("preview-form");
  var results = document.getElementById("preview-results");
  if (!form || !results) return;
  var timer = null;
  var asked = 0;

  function refresh() {
    var query = form.elements.preview.value;
    var params = new URLSearchParams({ preview: query, since: form.elements.since.value });
    var mine = ++asked;
    results.setAttribute("aria-busy", "true");
    fetch("/rules/preview?" + params.toString(), { credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        if (mine !== asked) return; // an older answer arriving late must not replace a newer one
        results.innerHTML = html;
        results.removeAttribute("aria-busy");
        history.replaceState(null, "", "/rules?" + params.toString());
      })
      .catch(function (err) {
        if (mine === asked) results.textContent = "preview failed: " + err;
      });
  }

  function soon() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 300);
  }

  form.elements.preview.addEventListener("input", soon);
  form.elements.since.addEventListener("change", soon);
  form.addEventListener("submit", function (event) { event.preventDefault(); refresh(); });
  document.querySelectorAll("[data-preview-query]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      form.elements.preview.value = link.getAttribute("data-preview-query");
      form.elements.preview.focus();
      refresh();
    });
  });
})();
