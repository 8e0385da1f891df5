// The list page: select all, confirm bulk deletes, "/" to search, and live arrivals.
(function () {
  "use strict";
  var list = document.getElementById("bookmark-list");
  if (!list) { return; }
  var bulk = document.getElementById("bulk");

  // The bar shows its actions once something is ticked (a phone gets the list back meanwhile).
  function markSelection() {
    if (bulk) { bulk.classList.toggle("has-selection", !!list.querySelector("input.select:checked")); }
  }
  if (bulk) { bulk.classList.add("compact"); markSelection(); }
  document.addEventListener("change", function (event) {
    if (event.target.id === "select-all") {
      list.querySelectorAll("input.select").forEach(function (box) { box.checked = event.target.checked; });
    }
    markSelection();
  });
  if (bulk) {
    bulk.addEventListener("submit", function (event) {
      var action = bulk.querySelector("[name=action]").value;
      var count = list.querySelectorAll("input.select:checked").length;
      // ngettext and interpolate: Django's JavaScript catalog (/i18n/js/), loaded before this file.
      var question = interpolate(ngettext("Delete the %s selected bookmark?", "Delete the %s selected bookmarks?", count), [count]);
      if (action === "delete" && count && !window.confirm(question)) {
        event.preventDefault();
      }
    });
  }
  // "Mark read" / "Read later" without a page load: the same form, answered with the new row.
  // Without script (or if the request fails) the form posts as usual and the page comes back.
  list.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList.contains("mark")) { return; }
    event.preventDefault();
    fetch(form.action, {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: { Accept: "application/json" }
    })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (item) {
        show(item);
        // Keyboard users stay on the row's button (it now says the opposite).
        var button = document.querySelector("#b" + item.id + " form.mark button");
        if (button) { button.focus(); }
      })
      .catch(function () { form.submit(); });
  });
  document.addEventListener("keydown", function (event) {
    var tag = (event.target.tagName || "").toLowerCase();
    if (event.key === "/" && tag !== "input" && tag !== "textarea" && tag !== "select") {
      event.preventDefault();
      document.getElementById("q").focus();
    }
  });

  // Live arrivals: ask what changed since the last answer and put it in place
  // (new bookmarks on top of page 1; titles that arrived). Every second after
  // something arrived, slowing to every 2 s while nothing does (an arrival
  // still shows within about 2 s); nothing while the tab is hidden, and at
  // once when it is shown again. An idle poll costs the server no query.
  var FAST = 1000, SLOW = 2000;
  var since = list.getAttribute("data-since");
  var delay = FAST, timer = null, busy = false;
  function schedule(ms) {
    clearTimeout(timer);
    timer = setTimeout(poll, ms);
  }
  function poll() {
    if (busy || document.hidden) { return; }
    busy = true;
    // The list's filters come along, so an arrival the filters leave out stays out.
    var params = new URLSearchParams(list.getAttribute("data-filters") || "");
    params.set("since", since);
    params.set("q", list.getAttribute("data-query"));
    params.set("tag", list.getAttribute("data-tag"));
    params.set("back", location.pathname + location.search);
    fetch(list.getAttribute("data-live-url") + "?" + params.toString(), { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        since = data.since;
        data.items.forEach(show);
        if (data.tags_html) { showTags(data.tags_html); }
        delay = data.items.length ? FAST : Math.min(delay + 250, SLOW);
      })
      .catch(function () { delay = SLOW; /* offline for a moment: the next poll catches up */ })
      .finally(function () { busy = false; schedule(delay); });
  }
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) { delay = FAST; schedule(0); }
  });
  function showTags(html) {
    var sidebar = document.getElementById("tag-cloud");
    if (!sidebar) { return; }
    sidebar.innerHTML = html;
    sidebar.hidden = !sidebar.querySelector("li");
  }
  function show(item) {
    var current = document.getElementById("b" + item.id);
    if (current && current.getAttribute("data-version") === item.version) { return; }
    var holder = document.createElement("template");
    holder.innerHTML = item.html.trim();
    var fresh = holder.content.firstElementChild;
    if (current) {
      var box = current.querySelector("input.select");
      if (box && box.checked) { fresh.querySelector("input.select").checked = true; }
      current.replaceWith(fresh);
    } else if (list.getAttribute("data-prepend")) {
      fresh.classList.add("arrived");
      list.prepend(fresh);
      var empty = document.getElementById("empty");
      if (empty) { empty.hidden = true; }
    }
  }
  schedule(FAST);
})();
