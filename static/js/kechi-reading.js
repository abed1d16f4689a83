// The wait while an uploaded sheet is read by its preview job: poll, then go to the mapping step
// (or to the job's page, which shows why the file was refused).
(function () {
  var box = document.getElementById('kechi-reading');
  if (!box) { return; }
  var url = box.getAttribute('data-status-url');
  function tick() {
    fetch(url, {credentials: 'same-origin', headers: {'Accept': 'application/json'}})
      .then(function (r) { return r.json(); })
      .then(function (s) {
        if (s.status !== 'reading') { window.location.href = box.getAttribute('data-next-url'); return; }
        setTimeout(tick, 500);
      })
      .catch(function () { setTimeout(tick, 2000); });
  }
  setTimeout(tick, 300);
})();
