// Harrier's investigation UI. Every value shown comes from evidence an
// attacker may have written, so this script builds the page with
// createElement and textContent only: no markup is ever parsed from data.
'use strict';

(function () {
  const PAGE = 100;
  const PIVOTS = ['key', 'principal', 'ip', 'event'];
  const LABELS = { key: 'access key', principal: 'principal', ip: 'IP', event: 'event', q: 'search', finding: 'finding', scope: 'scope', errors: 'errors only' };

  // state is the current view; it lives in the URL's fragment, so reloading
  // or going back restores it (the fragment never reaches the server).
  let state = readHash();
  let cursors = [];   // cursors of the pages before the current one
  let current = '';   // cursor the current page starts after
  let next = '';
  let findingTitles = {};
  let loads = 0;      // views drawn; tests wait on it (body data-loads)

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
    const s = { q: p.get('q') || '', errors: p.get('errors') === '1', finding: p.get('finding') || '', scope: p.get('scope') || '' };
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
    return p;
  }

  function setState(s) {
    state = s;
    const h = params(s).toString();
    if (location.hash.slice(1) !== h) history.pushState(null, '', h ? '#' + h : location.pathname);
    cursors = []; current = '';
    refresh();
  }

  async function get(path, p) {
    const url = p ? path + '?' + p.toString() : path;
    const r = await fetch(url, { credentials: 'same-origin', headers: { 'Accept': 'application/json' } });
    const body = await r.json().catch(() => ({ error: r.status + ' ' + r.statusText }));
    if (!r.ok) throw new Error(body.error || (r.status + ' ' + r.statusText));
    return body;
  }

  function showError(err) {
    const e = $('error');
    e.textContent = String(err && err.message ? err.message : err);
    e.hidden = false;
  }

  // pivot is a value the user can click to filter the timeline on it.
  function pivot(kind, value, label) {
    const b = el('button', 'pivot', label || value);
    b.type = 'button';
    b.dataset.kind = kind;
    b.dataset.value = value;
    b.title = 'filter on this ' + LABELS[kind];
    b.addEventListener('click', (ev) => { ev.stopPropagation(); addFilter(kind, value); });
    return b;
  }

  // scopeButton scopes the compromise from a key, principal or IP.
  function scopeButton(kind, value) {
    const b = el('button', 'scope-btn', 'scope');
    b.type = 'button';
    b.dataset.scope = kind + ':' + value;
    b.title = 'follow every credential derived from this ' + LABELS[kind];
    // a scope starts a new view of the case: the pivots of the old one would hide part of it
    b.addEventListener('click', (ev) => {
      ev.stopPropagation();
      setState({ key: [], principal: [], ip: [], event: [], q: '', errors: false, finding: '', scope: kind + ':' + value });
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
    $('search').value = state.q;
    $('errors-only').checked = state.errors;
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
  }

  async function loadFindings() {
    const v = await get('/api/findings');
    const box = $('findings');
    clear(box);
    if (!v.hunted) { box.append(el('p', 'muted', 'No hunt has been run on this case yet (harrier hunt).')); return; }
    if (v.findings.length === 0) { box.append(el('p', 'muted', 'The latest hunt found nothing.')); return; }
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

  function renderChart(h) {
    const box = $('chart');
    clear(box);
    if (h.buckets.length === 0) return;
    const w = 1000, ht = 90;
    const svg = document.createElementNS(SVGNS, 'svg');
    svg.setAttribute('viewBox', '0 0 ' + w + ' ' + ht);
    svg.setAttribute('preserveAspectRatio', 'none');
    svg.setAttribute('role', 'img');
    const t0 = Date.parse(h.buckets[0].start);
    const t1 = Date.parse(h.buckets[h.buckets.length - 1].start) + h.bucket_seconds * 1000;
    const max = Math.max(...h.buckets.map((b) => b.events));
    const bw = Math.max(1, (w * h.bucket_seconds * 1000) / (t1 - t0) - 1);
    for (const b of h.buckets) {
      const r = document.createElementNS(SVGNS, 'rect');
      const bh = Math.max(1, (b.events / max) * (ht - 2));
      r.setAttribute('x', String(((Date.parse(b.start) - t0) / (t1 - t0)) * w));
      r.setAttribute('y', String(ht - bh));
      r.setAttribute('width', String(bw));
      r.setAttribute('height', String(bh));
      const title = document.createElementNS(SVGNS, 'title');
      title.textContent = b.start + ': ' + b.events + ' events';
      r.append(title);
      svg.append(r);
    }
    box.append(svg);
  }

  function renderFacets(list) {
    const box = $('facets');
    clear(box);
    const names = { event: 'Event names', principal: 'Principals', ip: 'Source IPs', key: 'Access keys' };
    for (const f of list) {
      box.append(el('h3', null, names[f.field] || f.field));
      const ul = el('ul');
      ul.dataset.field = f.field;
      for (const v of f.values) {
        const li = el('li');
        const left = el('span');
        left.append(pivot(f.field, v.value));
        if (f.field !== 'event') left.append(scopeButton(f.field, v.value));
        li.append(left, el('span', 'facet-count', v.events.toLocaleString()));
        ul.append(li);
      }
      if (f.more) ul.append(el('li', 'muted', '… more'));
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
      const td = (cls, child) => { const c = el('td', cls); if (child !== undefined) c.append(child); tr.append(c); return c; };
      td('time', r.time || '(no time)');
      td('event', r.event_name ? pivot('event', r.event_name) : '');
      td('principal', r.principal ? pivot('principal', r.principal) : '');
      td('key', r.access_key_id ? pivot('key', r.access_key_id) : '');
      td('ip', r.source_ip ? pivot('ip', r.source_ip) : '');
      td('region', r.region);
      td('err', r.error_code);
      td('ua', r.user_agent);
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
    $('event-json').textContent = e.raw;
    const acts = $('detail-actions');
    clear(acts);
    if (r.access_key_id) acts.append(el('span', null, 'key '), pivot('key', r.access_key_id), scopeButton('key', r.access_key_id));
    if (r.principal && r.principal.startsWith('arn:')) acts.append(el('span', null, ' principal '), pivot('principal', r.principal), scopeButton('principal', r.principal));
    if (r.source_ip) acts.append(el('span', null, ' IP '), pivot('ip', r.source_ip), scopeButton('ip', r.source_ip));
    $('detail-section').scrollIntoView({ block: 'nearest' });
  }

  async function loadScope() {
    const sec = $('scope-section');
    if (!state.scope) { sec.hidden = true; return; }
    sec.hidden = false;
    $('scope-seed').textContent = state.scope;
    const box = $('scope-graph');
    clear(box);
    const rep = await get('/api/scope', new URLSearchParams({ scope: state.scope }));
    $('scope-summary').textContent = rep.event_count.toLocaleString() + ' events, ' + rep.credentials.length + ' credentials, ' +
      rep.principals.length + ' principals, ' + rep.source_ips.length + ' source IPs, ' + rep.write_event_count + ' write calls, ' +
      rep.first_seen + ' → ' + rep.last_seen;
    const img = el('img');
    img.alt = 'credential chain of ' + state.scope;
    img.src = '/api/scope.svg?' + new URLSearchParams({ scope: state.scope }).toString();
    box.append(img);
  }

  async function loadPage() {
    const p = params(state);
    p.set('limit', String(PAGE));
    if (current) p.set('after', current);
    const page = await get('/api/events', p);
    next = page.next;
    renderRows(page);
  }

  async function refresh() {
    $('error').hidden = true;
    renderChips();
    const p = params(state);
    const fp = new URLSearchParams(p); fp.set('limit', '10');
    try {
      await Promise.all([
        loadScope(),
        loadPage(),
        get('/api/facets', fp).then(renderFacets),
        get('/api/histogram', p).then(renderChart),
      ]);
    } catch (err) {
      showError(err);
    }
    document.body.dataset.loads = String(++loads);
  }

  function init() {
    $('search').addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter') setState(Object.assign({}, state, { q: $('search').value.trim() }));
    });
    $('errors-only').addEventListener('change', () => setState(Object.assign({}, state, { errors: $('errors-only').checked })));
    $('next').addEventListener('click', () => {
      if (!next) return;
      cursors.push(current); current = next;
      loadPage().catch(showError);
    });
    $('prev').addEventListener('click', () => {
      if (cursors.length === 0) return;
      current = cursors.pop();
      loadPage().catch(showError);
    });
    window.addEventListener('popstate', () => { state = readHash(); cursors = []; current = ''; refresh(); });
    Promise.all([loadSummary(), loadFindings()]).catch(showError).then(refresh);
  }

  init();
})();
