// osis web UI: the only script the pages load (served from the process; the CSP forbids inline script).
// It never parses data as markup: every value goes through textContent or a DOM property.
'use strict';

(function () {
  for (const select of document.querySelectorAll('select[data-autosubmit]')) {
    select.addEventListener('change', () => select.form.submit());
  }
  const live = document.getElementById('live');
  if (live) liveLog(live);
  const job = document.getElementById('job');
  if (job && job.dataset.state === 'running') pollJob(job);
})();

function num(n) {
  return Number(n).toLocaleString('en-US');
}

/** Same rule as the server's `segment`: percent-encode, and keep a trailing ".json" from meaning the JSON twin. */
function segment(value) {
  return encodeURIComponent(value).replace(/\.json$/, '%2Ejson');
}

function cellText(value, max) {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > max ? text.slice(0, max - 1) + '\u2026' : text;
}

function cell(row, text, className) {
  const td = document.createElement('td');
  if (className) td.className = className;
  td.textContent = text;
  row.appendChild(td);
  return td;
}

/** The live log: events from /events (SSE) are added on top; pause closes the stream, resume reopens it after the last one shown. */
function liveLog(box) {
  const MAX_ROWS = 500;
  const tbody = document.querySelector('#log tbody');
  const status = document.getElementById('live-status');
  const pause = document.getElementById('pause');
  const resume = document.getElementById('resume');
  const base = new URL(box.dataset.stream, window.location.href);
  const context = box.dataset.context;
  let last = Number(base.searchParams.get('from')) - 1;
  let source = null;
  box.hidden = false;

  const setStatus = (text, state) => {
    status.textContent = text;
    box.dataset.state = state;
  };

  const show = (event) => {
    const row = document.createElement('tr');
    row.className = event.kind + ' fresh';
    row.dataset.position = String(event.position);
    cell(row, String(event.position), 'num');
    const time = document.createElement('time');
    time.dateTime = event.ts;
    time.textContent = event.ts;
    cell(row, '').appendChild(time);
    cell(row, event.type);
    const link = document.createElement('a');
    const query = new URLSearchParams();
    if (context !== 'default') query.set('context', context);
    query.set('at', String(event.position));
    link.href = '/t/' + segment(event.type) + '/' + segment(event.sid) + '?' + query.toString();
    link.textContent = event.sid;
    cell(row, '').appendChild(link);
    const kind = document.createElement('span');
    kind.className = 'kind';
    kind.textContent = event.kind;
    cell(row, '').appendChild(kind);
    cell(row, String(event.version), 'num');
    cell(row, cellText(event.data, 160), 'data');
    tbody.insertBefore(row, tbody.firstChild);
    while (tbody.rows.length > MAX_ROWS) tbody.deleteRow(tbody.rows.length - 1);
    const empty = document.getElementById('log-empty');
    if (empty) empty.remove();
    setTimeout(() => row.classList.remove('fresh'), 1500);
  };

  const open = () => {
    const url = new URL(base);
    url.searchParams.set('from', String(last + 1));
    source = new EventSource(url.pathname + url.search);
    setStatus('connecting\u2026', 'connecting');
    source.onopen = () => setStatus('live', 'live');
    source.onerror = () => setStatus(source.readyState === EventSource.CLOSED ? 'disconnected' : 'reconnecting\u2026', 'reconnecting');
    source.onmessage = (message) => {
      const event = JSON.parse(message.data);
      if (event.position <= last) return;
      last = event.position;
      show(event);
    };
  };

  pause.addEventListener('click', () => {
    if (source) source.close();
    source = null;
    setStatus('paused at position ' + num(last), 'paused');
    pause.hidden = true;
    resume.hidden = false;
  });
  resume.addEventListener('click', () => {
    resume.hidden = true;
    pause.hidden = false;
    open();
  });
  open();
}

/** A running rebuild or parity check: poll its progress, and reload the page when it ends. */
function pollJob(box) {
  const progress = document.getElementById('job-progress');
  const count = document.getElementById('job-count');
  const state = document.getElementById('job-state');
  const tick = async () => {
    let job = null;
    try {
      const response = await fetch(box.dataset.job, { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
      job = (await response.json()).job;
    } catch (error) {
      state.textContent = 'running (progress unavailable)';
    }
    if (job) {
      progress.max = Math.max(job.total, 1);
      progress.value = job.done;
      count.textContent = num(job.done) + ' / ' + num(job.total);
      state.textContent = job.state;
      if (job.state !== 'running') {
        window.location.reload();
        return;
      }
    }
    setTimeout(tick, 250);
  };
  setTimeout(tick, 250);
}
