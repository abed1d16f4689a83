// The progress bar of an import or export job: polls the job's status until it ends.
(function () {
  var box = document.getElementById('kechi-job');
  if (!box) { return; }
  var url = box.getAttribute('data-status-url');
  function set(id, text) { var el = document.getElementById(id); if (el) { el.textContent = text; } }
  function tick() {
    fetch(url, {credentials: 'same-origin', headers: {'Accept': 'application/json'}})
      .then(function (r) { return r.json(); })
      .then(function (s) {
        var bar = document.getElementById('job-bar');
        bar.style.width = s.percent + '%';
        bar.setAttribute('aria-valuenow', s.percent);
        bar.textContent = s.percent + '%';
        set('job-status', s.status_label); set('job-done', s.done); set('job-total', s.total);
        set('job-errors', s.rejected); set('c-total', s.total); set('c-imported', s.imported); set('c-warned', s.warned);
        set('c-updated', s.updated); set('c-skipped', s.skipped); set('c-rejected', s.rejected);
        var err = document.getElementById('job-error');
        if (s.error) { err.textContent = s.error; err.style.display = ''; } else { err.style.display = 'none'; }
        var resume = document.getElementById('job-resume');
        if (resume) resume.style.display = ((s.status === 'failed' || s.stale) && !s.expired) ? '' : 'none';
        if (s.result_url) {
          var link = document.getElementById('job-result');
          link.href = s.result_url; link.classList.remove('d-none');
        }
        if (s.status === 'done' || s.status === 'failed') {
          bar.classList.remove('progress-bar-animated');
          bar.classList.add(s.status === 'done' ? 'bg-success' : 'bg-danger');
          box.setAttribute('data-finished', s.status);
          // A page that shows the job's outcome itself (导入预检) is loaded afresh once done.
          if (s.status === 'done' && box.getAttribute('data-reload-when-done')) { window.location.reload(); }
          return;
        }
        setTimeout(tick, 1000);
      })
      .catch(function () { setTimeout(tick, 3000); });
  }
  tick();
})();
