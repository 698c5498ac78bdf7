// The live view: polls /ui/data and draws it. Plain script, no build step: the admin serves
// this file as it is. Every value from the proxy is written with textContent (authorities and
// route names come from clients).
'use strict';
(function () {
  const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
  // What the page drew last, kept on window for whoever reads the page (the browser test too).
  const view = { group: 'routes', data: null, charts: {}, names: {} };
  window.wasmeshLive = view;

  const $ = (selector) => document.querySelector(selector);
  const number = (v, digits) => (v === null || v === undefined ? '-' : v.toFixed(digits));
  const percent = (v) => (v === null || v === undefined ? '-' : (v * 100).toFixed(2) + '%');
  const ms = (v) => (v === null || v === undefined ? '-' : v < 10 ? v.toFixed(1) + 'ms' : Math.round(v) + 'ms');
  const bytes = (v) => (v === null || v === undefined ? '-' : (v / 1048576).toFixed(1) + ' MiB');

  function setStatus(text, error) {
    const status = $('#status');
    status.textContent = text;
    status.classList.toggle('error', !!error);
  }

  function row(cells, className) {
    const tr = document.createElement('tr');
    if (className) tr.className = className;
    for (const cell of cells) {
      const td = document.createElement('td');
      const [text, cls] = Array.isArray(cell) ? cell : [cell, ''];
      td.textContent = text === null || text === undefined ? '-' : String(text);
      if (cls) td.className = cls;
      tr.appendChild(td);
    }
    return tr;
  }

  function fill(selector, rows, columns, emptyText) {
    const body = $(selector + ' tbody');
    body.replaceChildren(...rows);
    if (!rows.length) {
      const tr = row([emptyText], 'empty');
      tr.firstChild.colSpan = columns;
      body.appendChild(tr);
    }
  }

  // One uPlot per chart; rebuilt when the set of names changes, else given new data.
  // The y range of each chart: rates and latencies from 0, the success rate 0 to 100 %.
  const fromZero = (u, min, max) => [0, max > 0 ? max * 1.1 : 1];
  const Y_RANGE = { 'chart-rps': fromZero, 'chart-latency': fromZero, 'chart-success': () => [0, 100] };

  function chart(id, names, series, data) {
    const key = names.join('\n');
    const holder = document.getElementById(id);
    let plot = view.charts[id];
    if (!plot || view.names[id] !== key) {
      if (plot) plot.destroy();
      const opts = {
        width: Math.max(holder.clientWidth, 300),
        height: 220,
        series: [{}].concat(series),
        axes: [{}, { size: 60 }],
        scales: { x: { time: true }, y: { range: Y_RANGE[id] } },
        legend: { live: false },
      };
      plot = new uPlot(opts, data, holder);
      view.charts[id] = plot;
      view.names[id] = key;
    } else {
      plot.setData(data);
    }
  }

  function drawTraffic(data) {
    const windows = data.windows;
    const group = windows[view.group];
    const names = Object.keys(group);
    const xs = windows.times.map((t) => t / 1000);
    const colored = (name, i, extra) => Object.assign({ label: name, stroke: COLORS[i % COLORS.length], width: 2, spanGaps: false }, extra || {});
    chart('chart-rps', names, names.map((n, i) => colored(n, i)), [xs].concat(names.map((n) => group[n].rps)));
    chart('chart-success', names, names.map((n, i) => colored(n, i)),
      [xs].concat(names.map((n) => group[n].success.map((v) => (v === null ? null : v * 100)))));
    const latencyNames = names.flatMap((n) => [n + ' p50', n + ' p99']);
    chart('chart-latency', latencyNames,
      names.flatMap((n, i) => [colored(n + ' p50', i), colored(n + ' p99', i, { dash: [6, 4] })]),
      [xs].concat(names.flatMap((n) => [group[n].p50, group[n].p99])));
    // The table: the last minute as one window per name.
    const summary = windows[view.group + '_summary'];
    const rows = names.map((n) => {
      const s = summary[n] || { rps: null, success: null, latency: [null, null, null] };
      return row([n, [number(s.rps, 1), 'num'],
        [percent(s.success), s.success === null ? 'num' : s.success < 0.95 ? 'num bad' : 'num good'],
        [ms(s.latency[0]), 'num'], [ms(s.latency[1]), 'num'], [ms(s.latency[2]), 'num']]);
    });
    rows.forEach((tr, i) => (tr.dataset.name = names[i]));
    fill('#traffic-table', rows, 6, 'no traffic yet: no response has passed the metrics filter');
  }

  function health(e, now) {
    if (e.ejected === undefined) return '-';
    if (!e.ejected) return 'ok';
    const left = e.ejected_until_ms ? Math.max(0, (e.ejected_until_ms - now) / 1000) : 0;
    return 'ejected ' + left.toFixed(0) + 's more';
  }

  function drawEndpoints(data, now) {
    const rows = data.endpoints.map((e) => {
      const lb = e.lb || {};
      const tr = row([e.service, e.address, e.weight, e.priority, e.zone || '-',
        (e.source || '-') + (e.stale ? ' (stale)' : ''), e.version,
        e.age_ms === undefined || e.age_ms === null ? '-' : (e.age_ms / 1000).toFixed(0) + 's',
        health(e, now), e.ejections, [number(lb.rps, 1), 'num'], [lb.failures, 'num'],
        [lb.in_flight, 'num'], [ms(lb.ewma_ms), 'num']], e.ejected ? 'ejected' : '');
      tr.dataset.address = e.address;
      return tr;
    });
    fill('#endpoints-table', rows, 14, 'no endpoints: neither discovery nor the lb filter has published any');
  }

  // What a plugin's rollout means for this row (stable or canary).
  function rollout(p) {
    const r = p.rollout;
    if (!r) return '-';
    if (p.version === 'canary') {
      if (r.phase === 'rolled_back') return 'rolled back: ' + (r.reason || '');
      if (r.phase === 'promoted') return 'canary, every stream (promoted)';
      return 'canary, ' + r.share_now + '% of streams';
    }
    return 'stable, ' + (100 - r.share_now) + '% of streams';
  }

  function drawPlugins(data) {
    const rows = data.plugins.map((p) => {
      const failures = Object.entries(p.failures).map(([kind, n]) => kind + ' ' + n).join(', ') || '0';
      const tr = row([p.name, p.vm_id, p.sha256 ? p.sha256.slice(0, 12) : '-', [bytes(p.memory_bytes), 'num'],
        [p.calls === null ? '-' : p.calls, 'num'],
        [p.mean_call_us === null ? '-' : p.mean_call_us.toFixed(1) + 'µs', 'num'],
        [failures, failures === '0' ? '' : 'bad'], [p.rebuilds, 'num'], p.fail_open ? 'pass (fail open)' : '503',
        [rollout(p), p.rollout && p.rollout.phase === 'rolled_back' ? 'bad error' : '']]);
      tr.dataset.plugin = p.name;
      tr.children[2].title = p.sha256 || '';
      return tr;
    });
    fill('#plugins-table', rows, 10, 'no plugins configured');
  }

  function drawReloads(data) {
    const rows = data.reloads.map((r) => {
      const tr = row([new Date(r.at_ms).toLocaleTimeString(), r.generation,
        r.ok ? ['serving', 'good'] : ['rejected: ' + r.error, 'bad error']]);
      tr.dataset.generation = r.generation;
      return tr;
    });
    fill('#reloads-table', rows, 3, 'none');
  }

  function draw() {
    const data = view.data;
    if (!data) return;
    const now = Date.now();
    drawTraffic(data);
    drawEndpoints(data, now);
    drawPlugins(data);
    drawReloads(data);
  }

  async function refresh() {
    try {
      const response = await fetch('/ui/data', { cache: 'no-store' });
      if (!response.ok) throw new Error('the admin answered ' + response.status);
      view.data = await response.json();
      $('#window-s').textContent = String(view.data.sample_every_ms / 1000);
      draw();
      view.updates = (view.updates || 0) + 1;
      setStatus('generation ' + view.data.generation + ' · updated ' + new Date().toLocaleTimeString());
    } catch (e) {
      setStatus('cannot read /ui/data (' + e.message + '); trying again', true);
    }
  }

  for (const button of document.querySelectorAll('.group button')) {
    button.addEventListener('click', () => {
      view.group = button.dataset.group;
      for (const b of document.querySelectorAll('.group button')) b.classList.toggle('on', b === button);
      draw();
    });
  }
  window.addEventListener('resize', () => {
    for (const [id, plot] of Object.entries(view.charts)) {
      plot.setSize({ width: Math.max(document.getElementById(id).clientWidth, 300), height: 220 });
    }
  });
  refresh();
  setInterval(refresh, 2000);
})();
