// favsite: the few lines of script every page uses. The site works without them.
(function () {
  "use strict";
  // Dates in the browser's time zone: the server reads this cookie (bookmarks/web/timezones.py decodes it).
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && document.cookie.indexOf("favsite_tz=" + encodeURIComponent(zone)) === -1) {
      document.cookie = "favsite_tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; samesite=lax";
    }
  } catch (e) { /* old browser: the site's default zone */ }

  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); }
  });

  // Read-only fields holding an address or a token: one click selects all of it, ready to copy.
  document.addEventListener("click", function (event) {
    if (event.target.hasAttribute && event.target.hasAttribute("data-select-all")) { event.target.select(); }
  });
})();
