// Settings → Chat addresses: while a link code waits, ask every two seconds which addresses are linked,
// and show the link as soon as the code arrives from the chat client (no reload).
(function () {
  "use strict";
  var section = document.querySelector("[data-status-url]");
  if (!section) return;
  var list = document.querySelector(".linked-jids");
  var template = document.getElementById("linked-item");

  function waiting() {
    return Array.prototype.filter.call(section.querySelectorAll(".pending-code"), function (item) {
      return !item.classList.contains("done");
    });
  }

  function showLinked(item, jid) {
    item.classList.add("done");
    Array.prototype.forEach.call(item.children, function (child) { child.hidden = !child.classList.contains("linked-now"); });
    var entry = template.content.firstElementChild.cloneNode(true);
    entry.querySelector(".jid").textContent = jid;
    entry.querySelector("input[name=jid]").value = jid;
    list.appendChild(entry);
    var none = document.querySelector(".none-linked");
    if (none) none.hidden = true;
  }

  function poll() {
    var items = waiting();
    if (!items.length) return;
    fetch(section.getAttribute("data-status-url"), { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : { linked: [] }; })
      .then(function (data) {
        items.forEach(function (item) {
          var jid = item.getAttribute("data-jid");
          if (data.linked.indexOf(jid) !== -1) showLinked(item, jid);
        });
      })
      .catch(function () {})
      .then(function () { window.setTimeout(poll, 2000); });
  }

  window.setTimeout(poll, 2000);
})();
