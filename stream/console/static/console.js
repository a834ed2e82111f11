// Refresh the queue's rows every 10 s so new alerts appear without reloading; skipped while
// alerts are ticked for a bulk action.
(function () {
  var table = document.getElementById("queue");
  if (!table) return;
  setInterval(function () {
    if (document.querySelector("input[name=pick]:checked")) return;
    fetch(table.dataset.rows, {credentials: "same-origin"}).then(function (r) {
      if (!r.ok) return null;
      var newest = r.headers.get("X-Newest");
      return r.text().then(function (html) {
        table.tBodies[0].innerHTML = html;
        if (newest && newest !== table.dataset.newest) {
          document.getElementById("fresh").hidden = false;
          table.dataset.newest = newest;
        }
      });
    });
  }, 10000);
})();
