// Harrier's investigation UI. Every value shown comes from evidence an
// attacker may have written, so this script builds the page with
// createElement and textContent only: no markup is ever parsed from data.
'use strict';

(function () {
  const PAGE = 100;
  const FACET_MAX = 100; // the server's MaxFacetValues
  const PIVOTS = ['key', 'principal', 'ip', 'event'];
  const LABELS = { key: 'access key', principal: 'principal', ip: 'IP', event: 'event', q: 'search', finding: 'finding', scope: 'scope',
    errors: 'errors only', since: 'since', until: 'until' };
  const TOKEN_KEY = 'harrier-token';
  const TOKEN_HEADER = 'X-Harrier-Token';

  // The token comes in the first URL only. It is kept in this tab's
  // sessionStorage, sent in a header (a cookie would go to every port of
  // 127.0.0.1), and dropped from the address bar and its history entry.
  const first = new URLSearchParams(location.search);
  if (first.get('token')) {
    sessionStorage.setItem(TOKEN_KEY, first.get('token'));
    history.replaceState(null, '', location.pathname + location.hash);
  }
  const token = sessionStorage.getItem(TOKEN_KEY) || '';

  // state is the current view; it lives in the URL's fragment, so reloading
  // or going back restores it (the fragment never reaches the server).
  let state = readHash();
  let cursors = [];   // cursors of the pages before the current one
  let current = '';   // cursor the current page starts after
  let next = '';
  let paging = false; // a Next or Previous is loading: further clicks wait
  let findings = [];
  let findingTitles = {};
  let integrity = null;
  let loads = 0;      // views drawn; tests wait on it (body data-loads)
  // Only the latest view's answers are drawn: each view has a generation
  // and an AbortController; an answer for an older one is dropped.
  let gen = 0;
  let ctrl = null;
  let pageGen = 0;
  let graphURL = '';

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function $(id) { return document.getElementById(id); }

  function readHash() {
    const p = new URLSearchParams(location.hash.slice(1));
    const s = { q: p.get('q') || '', errors: p.get('errors') === '1', finding: p.get('finding') || '', scope: p.get('scope') || '',
      since: p.get('since') || '', until: p.get('until') || '' };
    for (const k of PIVOTS) s[k] = p.getAll(k);
    return s;
  }

  function params(s) {
    const p = new URLSearchParams();
    for (const k of PIVOTS) for (const v of s[k]) p.append(k, v);
    if (s.q) p.set('q', s.q);
    if (s.errors) p.set('errors', '1');
    if (s.finding) p.set('finding', s.finding);
    if (s.scope) p.set('scope', s.scope);
    if (s.since) p.set('since', s.since);
    if (s.until) p.set('until', s.until);
    return p;
  }

  function setState(s) {
    state = s;
    const h = params(s).toString();
    if (location.hash.slice(1) !== h) history.pushState(null, '', h ? '#' + h : location.pathname);
    cursors = []; current = '';
    refresh();
  }

  async function fetchOK(path, p, signal) {
    const url = p ? path + '?' + p.toString() : path;
    const headers = { 'Accept': 'application/json' };
    headers[TOKEN_HEADER] = token;
    const r = await fetch(url, { credentials: 'omit', headers: headers, signal: signal });
    if (!r.ok) {
      const body = await r.json().catch(() => ({}));
      throw new Error(body.error || (r.status + ' ' + r.statusText));
    }
    return r;
  }

  async function get(path, p, signal) {
    return (await fetchOK(path, p, signal)).json();
  }

  function showError(err) {
    if (err && err.name === 'AbortError') return;
    const e = $('error');
    e.textContent = String(err && err.message ? err.message : err);
    e.hidden = false;
  }

  // pivot is a value the user can click to filter the timeline on it. Long
  // values are cut with an ellipsis; the title has them whole.
  function pivot(kind, value, label) {
    const b = el('button', 'pivot', label || value);
    b.type = 'button';
    b.dataset.kind = kind;
    b.dataset.value = value;
    b.title = value + ' (filter on this ' + LABELS[kind] + ')';
    b.addEventListener('click', (ev) => { ev.stopPropagation(); addFilter(kind, value); });
    return b;
  }

  // scopable says whether scoping can start from a value, as the server's
  // ParseSeed does: an access key id, an ARN, an IP address. CloudTrail puts
  // a service's hostname where the IP goes and names services and accounts
  // as principals; those have no credentials to follow.
  function scopable(kind, v) {
    if (kind === 'key') return /^[A-Z0-9]{16,128}$/.test(v);
    if (kind === 'principal') { const p = v.split(':'); return p.length >= 6 && p[0] === 'arn' && p.slice(5).join(':') !== ''; }
    if (kind === 'ip') {
      const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(v);
      if (m) return m.slice(1).every((o) => Number(o) <= 255 && String(Number(o)) === o);
      if (!v.includes(':') || v.includes('%') || !/^[0-9A-Fa-f:.]+$/.test(v)) return false;
      try { new URL('http://[' + v + ']/'); return true; } catch (e) { return false; }
    }
    return false;
  }

  // scopeButton scopes the compromise from a key, principal or IP; none for
  // a value scoping cannot start from.
  function scopeButton(kind, value) {
    if (!scopable(kind, value)) return document.createTextNode('');
    const b = el('button', 'scope-btn', 'scope');
    b.type = 'button';
    b.dataset.scope = kind + ':' + value;
    b.title = 'follow every credential derived from this ' + LABELS[kind] + ' (within the time window, if one is set)';
    // a scope starts a new view of the case: the pivots of the old one
    // would hide part of it; the time window stays
    b.addEventListener('click', (ev) => {
      ev.stopPropagation();
      setState({ key: [], principal: [], ip: [], event: [], q: '', errors: false, finding: '', scope: kind + ':' + value, since: state.since, until: state.until });
    });
    return b;
  }

  function addFilter(kind, value) {
    const s = Object.assign({}, state);
    if (!s[kind].includes(value)) s[kind] = s[kind].concat([value]);
    setState(s);
  }

  function removeFilter(kind, value) {
    const s = Object.assign({}, state);
    if (PIVOTS.includes(kind)) s[kind] = s[kind].filter((v) => v !== value);
    else if (kind === 'errors') s.errors = false;
    else s[kind] = '';
    setState(s);
  }

  function renderChips() {
    const box = $('active-filters');
    clear(box);
    const add = (kind, value, label) => {
      const c = el('button', 'chip', LABELS[kind] + ': ' + (label || value) + ' ✕');
      c.type = 'button';
      c.dataset.kind = kind;
      c.addEventListener('click', () => removeFilter(kind, value));
      box.append(c);
    };
    for (const k of PIVOTS) for (const v of state[k]) add(k, v);
    if (state.q) add('q', state.q);
    if (state.errors) add('errors', '1', 'yes');
    if (state.finding) add('finding', state.finding, findingTitles[state.finding] || state.finding);
    if (state.scope) add('scope', state.scope);
    if (state.since) add('since', state.since);
    if (state.until) add('until', state.until);
    $('search').value = state.q;
    $('errors-only').checked = state.errors;
    $('since').value = state.since;
    $('until').value = state.until;
  }

  // renderIntegrity is the header's verdict of `harrier verify`, which the
  // page must not let anyone forget: unverified evidence may be forged.
  function renderIntegrity(iv) {
    integrity = iv;
    const b = $('integrity');
    b.hidden = false;
    if (!iv.verified) {
      b.className = 'integrity bad';
      b.textContent = 'NOT VERIFIED: run harrier verify. No event here has been checked against CloudTrail\'s digests; any of them may have been altered.';
      return;
    }
    if (iv.untrusted_events === 0) {
      b.className = 'integrity ok';
      b.textContent = 'Verified: every event comes from evidence harrier verify vouched for (' + iv.verified_at + ').';
      return;
    }
    const parts = [];
    for (const k of Object.keys(iv.events).sort()) if (k !== 'verified') parts.push(iv.events[k].toLocaleString() + ' ' + k);
    b.className = 'integrity warn';
    b.textContent = iv.untrusted_events.toLocaleString() + ' events come from evidence harrier verify could not vouch for (' + parts.join(', ') +
      '), verified ' + iv.verified_at + '. They are marked in the timeline.';
  }

  const SHORT = { 'changed-since-acquired': 'changed' };

  // rowIntegrity is the label of an event whose evidence verify did not
  // vouch for, or '' (verified, or never verified: the header says so).
  function rowIntegrity(r) {
    if (!integrity || !integrity.verified) return '';
    const st = r.integrity || 'unchecked';
    return st === 'verified' ? '' : st;
  }

  async function loadSummary() {
    const s = await get('/api/summary');
    const sum = s.summary;
    if (s.case) { $('case-name').textContent = '— ' + s.case; document.title = 'Harrier — ' + s.case; }
    const parts = [sum.events.toLocaleString() + ' events'];
    if (sum.first_event) parts.push(sum.first_event + ' → ' + sum.last_event);
    parts.push((sum.by_account || []).length + ' accounts', (sum.by_region || []).length + ' regions');
    if (sum.rejected) parts.push(sum.rejected + ' records rejected');
    $('summary').textContent = parts.join(' · ');
    renderIntegrity(s.integrity);
  }

  async function loadFindings() {
    const v = await get('/api/findings');
    const box = $('findings');
    clear(box);
    if (!v.hunted) { box.append(el('p', 'muted', 'No hunt has been run on this case yet (harrier hunt).')); return; }
    if (v.findings.length === 0) { box.append(el('p', 'muted', 'The latest hunt found nothing.')); return; }
    findings = v.findings;
    for (const f of v.findings) {
      findingTitles[String(f.finding_id)] = f.title;
      const d = el('div', 'finding sev-' + String(f.severity).toLowerCase());
      d.dataset.rule = f.rule_id;
      const head = el('div');
      head.append(el('span', 'sev', f.severity), el('span', 'finding-title', f.title), el('span', 'muted', '  ' + f.rule_id));
      const meta = el('div', 'finding-meta');
      meta.append(el('span', 'muted', f.count + ' events, ' + f.first_seen + ' → ' + f.last_seen + '  '));
      if (f.principal) meta.append(pivot('principal', f.principal));
      for (const k of f.access_key_ids || []) meta.append(pivot('key', k));
      for (const ip of f.source_ips || []) meta.append(pivot('ip', ip));
      const show = el('button', 'small', 'show its events');
      show.type = 'button';
      show.addEventListener('click', () => setState(Object.assign({}, state, { finding: String(f.finding_id) })));
      meta.append(show);
      d.append(head, meta);
      if (f.description) d.append(el('div', 'muted', f.description));
      box.append(d);
    }
  }

  const SVGNS = 'http://www.w3.org/2000/svg';
  const MIN = 60e3, HOUR = 3600e3, DAY = 86400e3;
  const TICKS = [MIN, 5 * MIN, 15 * MIN, 30 * MIN, HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY, 30 * DAY, 365 * DAY];

  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVGNS, tag);
    for (const k of Object.keys(attrs)) e.setAttribute(k, String(attrs[k]));
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function iso(ms) { return new Date(ms).toISOString().replace('.000Z', 'Z'); }

  // renderChart draws the histogram as SVG: a bar per bucket (click one to
  // set the time window to it), a labelled UTC time axis, and a mark at
  // each finding's first event.
  function renderChart(h) {
    const box = $('chart');
    clear(box);
    if (h.buckets.length === 0) return;
    const w = Math.max(400, Math.round(box.clientWidth || 1000)), top = 12, barsH = 80, ht = top + barsH + 22;
    const s = svg('svg', { viewBox: '0 0 ' + w + ' ' + ht, width: w, height: ht, role: 'img' });
    s.append(svg('title', {}, 'events per ' + (h.bucket_seconds >= 3600 ? (h.bucket_seconds / 3600) + ' h' : (h.bucket_seconds / 60) + ' min') + ' (UTC)'));
    const step = h.bucket_seconds * 1000;
    const t0 = Date.parse(h.buckets[0].start);
    const t1 = Date.parse(h.buckets[h.buckets.length - 1].start) + step;
    const x = (t) => ((t - t0) / (t1 - t0)) * w;
    const max = Math.max(...h.buckets.map((b) => b.events));
    const bw = Math.max(1, (w * step) / (t1 - t0) - 1);
    for (const b of h.buckets) {
      const bh = Math.max(1, (b.events / max) * barsH);
      const start = Date.parse(b.start);
      const r = svg('rect', { class: 'bar', x: x(start), y: top + barsH - bh, width: bw, height: bh });
      r.dataset.start = b.start;
      r.append(svg('title', {}, b.start + ' + ' + (h.bucket_seconds / 60) + ' min: ' + b.events.toLocaleString() + ' events (click to show only this)'));
      r.addEventListener('click', () => setState(Object.assign({}, state, { since: iso(start), until: iso(start + step) })));
      s.append(r);
    }
    // the axis: ticks on round UTC times, at most about one per 110 px
    s.append(svg('line', { class: 'axis', x1: 0, x2: w, y1: top + barsH + 0.5, y2: top + barsH + 0.5 }));
    const tick = TICKS.find((t) => (t1 - t0) / t <= w / 110) || TICKS[TICKS.length - 1];
    for (let t = Math.ceil(t0 / tick) * tick; t <= t1; t += tick) {
      const d = new Date(t).toISOString();
      const label = tick >= DAY ? d.slice(0, 10) : d.slice(5, 10) + ' ' + d.slice(11, 16);
      s.append(svg('line', { class: 'tick', x1: x(t), x2: x(t), y1: top + barsH, y2: top + barsH + 4 }));
      s.append(svg('text', { class: 'tick-label', x: x(t), y: top + barsH + 16, 'text-anchor': x(t) < 40 ? 'start' : 'middle' }, label));
    }
    s.append(svg('text', { class: 'tick-label', x: w - 2, y: top + barsH + 16, 'text-anchor': 'end' }, 'UTC'));
    for (const f of findings) {
      const at = Date.parse(f.first_seen);
      if (!(at >= t0 && at <= t1)) continue;
      const g = svg('g', { class: 'finding-mark sev-' + String(f.severity).toLowerCase() });
      g.dataset.finding = String(f.finding_id);
      g.append(svg('title', {}, f.severity + ': ' + f.title + ', first seen ' + f.first_seen));
      g.append(svg('line', { x1: x(at), x2: x(at), y1: top, y2: top + barsH }));
      g.append(svg('path', { d: 'M' + (x(at) - 5) + ' 1 L' + (x(at) + 5) + ' 1 L' + x(at) + ' ' + (top - 1) + ' Z' }));
      s.append(g);
    }
    box.append(s);
  }

  const FACET_NAMES = { event: 'Event names', principal: 'Principals', ip: 'Source IPs', key: 'Access keys' };

  function facetList(f, ul) {
    clear(ul);
    for (const v of f.values) {
      const li = el('li');
      const left = el('span', 'facet-value');
      left.append(pivot(f.field, v.value));
      if (f.field !== 'event') left.append(scopeButton(f.field, v.value));
      li.append(left, el('span', 'facet-count', v.events.toLocaleString()));
      ul.append(li);
    }
    if (!f.more) return;
    if (f.values.length >= FACET_MAX) { ul.append(el('li', 'muted', '… more than ' + FACET_MAX + ': narrow the filter')); return; }
    const li = el('li');
    const more = el('button', 'small more', '… more');
    more.type = 'button';
    more.dataset.field = f.field;
    const g = gen;
    more.addEventListener('click', () => {
      more.disabled = true;
      const p = params(state);
      p.set('field', f.field);
      p.set('limit', String(FACET_MAX));
      get('/api/facets', p, ctrl && ctrl.signal).then((list) => { if (g === gen && list.length) facetList(list[0], ul); }).catch(showError);
    });
    li.append(more);
    ul.append(li);
  }

  function renderFacets(list) {
    const box = $('facets');
    clear(box);
    for (const f of list) {
      box.append(el('h3', null, FACET_NAMES[f.field] || f.field));
      const ul = el('ul');
      ul.dataset.field = f.field;
      facetList(f, ul);
      box.append(ul);
    }
  }

  function renderRows(p) {
    const body = $('timeline').tBodies[0];
    clear(body);
    for (const r of p.rows) {
      const tr = el('tr');
      tr.dataset.file = r.file;
      tr.dataset.index = String(r.index);
      const td = (cls, child, title) => {
        const c = el('td', cls);
        if (child !== undefined) c.append(child);
        if (title) c.title = title;
        tr.append(c);
        return c;
      };
      const time = td('time', r.time || '(no time)', r.time);
      const integ = rowIntegrity(r);
      if (integ) {
        tr.classList.add('untrusted');
        tr.dataset.integrity = integ;
        const lab = el('span', 'integ-label', (SHORT[integ] || integ).toUpperCase());
        lab.title = 'harrier verify found this event\'s evidence file ' + integ + ': ' + r.file;
        time.prepend(lab, ' ');
      }
      td('event', r.event_name ? pivot('event', r.event_name) : '');
      td('principal', r.principal ? pivot('principal', r.principal) : '');
      td('key', r.access_key_id ? pivot('key', r.access_key_id) : '');
      td('ip', r.source_ip ? pivot('ip', r.source_ip) : '');
      td('region', r.region);
      td('err', r.error_code, r.error_code);
      td('ua', r.user_agent, r.user_agent);
      tr.addEventListener('click', () => showEvent(r, tr));
      body.append(tr);
    }
    const first = cursors.length * PAGE + (p.rows.length ? 1 : 0);
    $('count').textContent = p.total.toLocaleString() + ' events match; showing ' + first + '–' + (cursors.length * PAGE + p.rows.length);
    $('prev').disabled = cursors.length === 0;
    $('next').disabled = !p.next;
  }

  async function showEvent(r, tr) {
    for (const s of document.querySelectorAll('tr.selected')) s.classList.remove('selected');
    tr.classList.add('selected');
    const p = new URLSearchParams({ file: r.file, index: String(r.index) });
    const e = await get('/api/event', p);
    $('detail-section').hidden = false;
    $('detail-title').textContent = (r.event_name || '') + ' ' + (r.event_id || '') + ' (' + r.file + ' #' + r.index + ')';
    const integ = rowIntegrity(r);
    $('detail-integrity').hidden = !integ;
    $('detail-integrity').textContent = integ ? 'Evidence ' + integ.toUpperCase() + ': harrier verify could not vouch for ' + r.file : '';
    $('event-json').textContent = e.raw;
    const acts = $('detail-actions');
    clear(acts);
    if (r.access_key_id) acts.append(el('span', null, 'key '), pivot('key', r.access_key_id), scopeButton('key', r.access_key_id));
    if (r.principal) acts.append(el('span', null, ' principal '), pivot('principal', r.principal), scopeButton('principal', r.principal));
    if (r.source_ip) acts.append(el('span', null, ' IP '), pivot('ip', r.source_ip), scopeButton('ip', r.source_ip));
    $('detail-section').scrollIntoView({ block: 'nearest' });
  }

  async function loadScope(g, signal) {
    const sec = $('scope-section');
    if (!state.scope) { sec.hidden = true; return; }
    sec.hidden = false;
    $('scope-seed').textContent = state.scope + (state.since || state.until ? ' (' + (state.since || '…') + ' → ' + (state.until || '…') + ')' : '');
    const box = $('scope-graph');
    clear(box);
    $('scope-summary').textContent = '';
    const sp = new URLSearchParams({ scope: state.scope });
    if (state.since) sp.set('since', state.since);
    if (state.until) sp.set('until', state.until);
    const rep = await get('/api/scope', sp, signal);
    if (g !== gen) return;
    $('scope-summary').textContent = rep.event_count.toLocaleString() + ' events, ' + rep.credentials.length + ' credentials, ' +
      rep.principals.length + ' principals, ' + rep.source_ips.length + ' source IPs, ' + rep.write_event_count + ' write calls, ' +
      rep.first_seen + ' → ' + rep.last_seen;
    // the graph needs the token too: fetched, then shown from a blob: URL
    const blob = await (await fetchOK('/api/scope.svg', sp, signal)).blob();
    if (g !== gen) return;
    if (graphURL) URL.revokeObjectURL(graphURL);
    graphURL = URL.createObjectURL(new Blob([blob], { type: 'image/svg+xml' }));
    const img = el('img');
    img.alt = 'credential chain of ' + state.scope;
    img.src = graphURL;
    box.append(img);
  }

  async function loadPage(signal) {
    const pg = ++pageGen;
    const p = params(state);
    p.set('limit', String(PAGE));
    if (current) p.set('after', current);
    const page = await get('/api/events', p, signal);
    if (pg !== pageGen) return;
    next = page.next;
    renderRows(page);
  }

  async function refresh() {
    if (ctrl) ctrl.abort();
    ctrl = new AbortController();
    const g = ++gen, signal = ctrl.signal;
    paging = false;
    $('error').hidden = true;
    renderChips();
    const p = params(state);
    const fp = new URLSearchParams(p); fp.set('limit', '10');
    try {
      await Promise.all([
        loadScope(g, signal),
        loadPage(signal),
        get('/api/facets', fp, signal).then((v) => { if (g === gen) renderFacets(v); }),
        get('/api/histogram', p, signal).then((v) => { if (g === gen) renderChart(v); }),
      ]);
    } catch (err) {
      if (g === gen) showError(err);
    }
    if (g === gen) document.body.dataset.loads = String(++loads);
  }

  // turnPage loads the page before or after; clicks while one loads are
  // dropped, so a double click cannot push the same cursor twice.
  function turnPage(forward) {
    if (paging) return;
    if (forward) {
      if (!next) return;
      cursors.push(current); current = next;
    } else {
      if (cursors.length === 0) return;
      current = cursors.pop();
    }
    paging = true;
    next = '';
    $('next').disabled = true; $('prev').disabled = true;
    const g = gen;
    loadPage(ctrl && ctrl.signal).catch(showError).finally(() => {
      if (g === gen) { paging = false; document.body.dataset.pages = String(Number(document.body.dataset.pages || 0) + 1); }
    });
  }

  function setWindow() {
    const since = $('since').value.trim(), until = $('until').value.trim();
    if (since === state.since && until === state.until) return;
    setState(Object.assign({}, state, { since: since, until: until }));
  }

  function init() {
    if (!token) { showError('No token: open the URL harrier serve printed.'); return; }
    $('search').addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter') setState(Object.assign({}, state, { q: $('search').value.trim() }));
    });
    for (const id of ['since', 'until']) {
      $(id).addEventListener('keydown', (ev) => { if (ev.key === 'Enter') setWindow(); });
      $(id).addEventListener('change', setWindow);
    }
    $('errors-only').addEventListener('change', () => setState(Object.assign({}, state, { errors: $('errors-only').checked })));
    $('next').addEventListener('click', () => turnPage(true));
    $('prev').addEventListener('click', () => turnPage(false));
    window.addEventListener('popstate', () => { state = readHash(); cursors = []; current = ''; refresh(); });
    Promise.all([loadSummary(), loadFindings()]).catch(showError).then(refresh);
  }

  init();
})();
