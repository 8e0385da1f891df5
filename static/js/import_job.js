// The import job page: poll the job once a second until it has finished; text only (textContent), never HTML.
(function () {
  var box = document.getElementById("import-job");
  var bar = document.getElementById("import-progress");
  var state = document.getElementById("import-state");
  var result = document.getElementById("import-result");
  var error = document.getElementById("import-error");
  var list = document.getElementById("import-messages");
  function show(s) {
    bar.max = s.total || 1;
    bar.value = s.done;
    state.textContent = s.state_label + " — " + s.done + "/" + s.total;
    if (s.error) { error.textContent = s.error; error.hidden = false; }
    if (s.finished) {
      result.textContent = s.summary;
      result.hidden = false;
      list.replaceChildren.apply(list, s.messages.map(function (line) {
        var item = document.createElement("li"); item.textContent = line; return item;
      }));
    }
    return s.finished;
  }
  function poll() {
    fetch(box.dataset.statusUrl, {credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (s) { if (!show(s)) { setTimeout(poll, 1000); } })
      .catch(function () { setTimeout(poll, 3000); });
  }
  if (box.hasAttribute("data-running")) { poll(); }
})();
