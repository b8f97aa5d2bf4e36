/**
 * The inspector page's script (`GET /app.js`), plain browser JavaScript kept as a string so the
 * server ships it as is. It renders each thread's tree as an outline of boxes, applies the SSE
 * snapshot and batches once per animation frame (patching only the nodes that changed), shows a
 * clicked task's details, and cancels a subtree with `POST /cancel` and the `#token=` of the URL.
 * All task data goes into the DOM as text (`textContent`), never as markup.
 */
// biome-ignore lint/complexity/noUselessStringRaw: keeps any escape in the browser script literal.
export const INSPECTOR_JS = String.raw`(() => {
'use strict';
const params = new URLSearchParams(location.hash.slice(1));
let token = params.get('token') || '';
const nodes = new Map();      // task_id -> { li, box, ul, data }
const threads = new Map();    // thread_id -> { section, root, count }
const events = new Map();     // task_id -> latest custom event record
let canCancel = false;
let selected = null;
let pending = [];
let frame = 0;
let detailBusy = false;
let detailAgain = false;
let panelCtl = null;    // { id, btn, out, sent } of the task in the details panel
const $ = (id) => document.getElementById(id);

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}
function compact(v) {
  let s;
  try { s = JSON.stringify(v); } catch (_) { s = String(v); }
  return s === undefined ? 'null' : s;
}
function clip(s, n) { return s.length > n ? s.slice(0, n - 1) + '…' : s; }
function eventText(rec) {
  const e = rec.event;
  if (e.kind === 'custom') return e.event_type + ' ' + clip(compact(e.payload), 120);
  if (e.kind === 'completed') return 'completed ' + clip(compact(e.result), 120);
  if (e.kind === 'failed') return 'failed: ' + e.error;
  return e.kind;
}
function threadOf(id) {
  let t = threads.get(id);
  if (t) return t;
  const section = el('section', 'thread');
  section.dataset.threadId = id;
  const h = el('h2');
  h.append(el('span', '', 'thread ' + id));
  const count = el('small');
  h.append(count);
  const a = el('a', '', 'Graphviz SVG');
  a.href = '/api/threads/' + encodeURIComponent(id) + '/graph.svg';
  a.target = '_blank';
  a.rel = 'noopener';
  h.append(a);
  const root = el('ul', 'tree');
  section.append(h, root);
  $('threads').append(section);
  $('empty').hidden = true;
  t = { section, root, count, size: 0 };
  threads.set(id, t);
  return t;
}
// Patch a node in place: only changed classes and texts are written, no elements are created.
function setText(e, text) { if (e.textContent !== text) e.textContent = text; }
function paint(entry) {
  const n = entry.data;
  const s = n.summary;
  const phase = s.status === 'running' && s.phase ? s.phase : '';
  const cls = 'node st-' + s.status + (phase ? ' ph-' + phase : '') + (selected === s.task_id ? ' selected' : '');
  if (entry.box.className !== cls) entry.box.className = cls;
  if (entry.box.dataset.status !== s.status) entry.box.dataset.status = s.status;
  if ((entry.box.dataset.phase || '') !== phase) {
    if (phase) entry.box.dataset.phase = phase;
    else delete entry.box.dataset.phase;
  }
  setText(entry.t, n.label[0] || s.task_id);
  setText(entry.d, n.label.slice(1, -1).join(' '));
  setText(entry.s, n.label[n.label.length - 1] || s.status);
  const latest = events.get(s.task_id);
  const text = latest ? '» ' + eventText(latest) : '';
  setText(entry.e, text);
}
function apply(n) {
  const id = n.summary.task_id;
  if (n.latest) events.set(id, n.latest);
  let entry = nodes.get(id);
  if (entry) {
    entry.data = n;
    paint(entry);
    return;
  }
  const li = el('li');
  const box = el('div', 'node');
  box.dataset.taskId = id;
  box.tabIndex = 0;
  entry = { li, box, ul: null, data: n, t: el('div', 't'), d: el('div', 'd'), s: el('div', 's'), e: el('div', 'e') };
  box.append(entry.t, entry.d, entry.s, entry.e);
  li.append(box);
  nodes.set(id, entry);
  const parentId = n.summary.parent_context && n.summary.parent_context.task_id;
  const parent = parentId !== undefined ? nodes.get(parentId) : undefined;
  if (parent && parent.data.thread_id === n.thread_id) {
    if (!parent.ul) { parent.ul = el('ul'); parent.li.append(parent.ul); }
    parent.ul.append(li);
  } else {
    threadOf(n.thread_id).root.append(li);
  }
  threadOf(n.thread_id).size++;
  paint(entry);
}
function recount() {
  const c = { running: 0, completed: 0, failed: 0, cancelled: 0 };
  const ph = { queued: 0, waiting: 0 };
  for (const e of nodes.values()) {
    const s = e.data.summary;
    c[s.status]++;
    if (s.status === 'running' && s.phase in ph) ph[s.phase]++;
  }
  const out = [];
  for (const k of Object.keys(c)) { const b = el('span', 'badge st-' + k, k + ' ' + c[k]); b.dataset.count = k; out.push(b); }
  for (const k of Object.keys(ph)) {
    if (ph[k] === 0) continue;
    const b = el('span', 'badge ph-' + k, k + ' ' + ph[k]);
    b.dataset.count = k;
    out.push(b);
  }
  $('counts').replaceChildren(...out);
  for (const t of threads.values()) t.count.textContent = t.size + (t.size === 1 ? ' task' : ' tasks');
  $('token-state').textContent = !canCancel ? 'read-only source: cancelling disabled'
    : token ? 'cancel enabled (token from URL)' : 'no token in URL: cancelling disabled';
}
function reset(snapshot) {
  nodes.clear(); threads.clear(); events.clear();
  for (const s of document.querySelectorAll('section.thread')) s.remove();
  $('empty').hidden = false;
  canCancel = snapshot.can_cancel;
  for (const t of snapshot.threads) { threadOf(t.thread_id); for (const n of t.nodes) apply(n); }
}
function flush() {
  frame = 0;
  const work = pending;
  pending = [];
  let touchedSelected = false;
  for (const item of work) {
    if (item.snapshot) { reset(item.snapshot); touchedSelected = true; continue; }
    for (const rec of item.batch.events) {
      if (rec.event.kind === 'custom') events.set(rec.event.task_id, rec);
      const entry = nodes.get(rec.event.task_id);
      if (entry) paint(entry);
      if (rec.event.task_id === selected) touchedSelected = true;
    }
    for (const n of item.batch.changes) { apply(n); if (n.summary.task_id === selected) touchedSelected = true; }
  }
  recount();
  document.body.dataset.ready = 'true';
  if (touchedSelected && selected) refreshDetail();
}
function enqueue(item) {
  pending.push(item);
  if (!frame) frame = requestAnimationFrame(flush);
}
function dl(pairs) {
  const d = el('dl');
  for (const [k, v] of pairs) { if (v === undefined) continue; d.append(el('dt', '', k), el('dd', '', v)); }
  return d;
}
// One details request at a time; changes meanwhile ask for one more (busy tasks never starve it).
function refreshDetail() {
  if (detailBusy) { detailAgain = true; return; }
  detailBusy = true;
  showDetail(selected).catch(() => {}).finally(() => {
    detailBusy = false;
    if (detailAgain) { detailAgain = false; refreshDetail(); }
  });
}
async function showDetail(id) {
  const res = await fetch('/api/tasks/' + encodeURIComponent(id), { cache: 'no-store' });
  if (id !== selected) return;
  const panel = $('detail');
  if (!res.ok) { panel.replaceChildren(el('p', 'muted', 'Task ' + id + ' is not known here.')); return; }
  const d = await res.json();
  if (id !== selected) return;
  const s = d.summary;
  const head = el('h3', '', s.task_id + ' · ' + s.task_type);
  const badge = el('span', 'badge st-' + s.status, s.status);
  badge.dataset.role = 'status';
  const sum = dl([
    ['thread', d.thread_id], ['status', s.status], ['description', s.description],
    ['created', new Date(s.created_at_ms).toISOString()],
    ['finished', s.completed_at_ms !== undefined ? new Date(s.completed_at_ms).toISOString() : undefined],
    ['error', s.error], ['result', s.result !== undefined ? clip(compact(s.result), 400) : undefined],
    ['phase', s.phase], ['stop reason', s.stop_reason],
    ['input request', s.input_request !== undefined ? clip(compact(s.input_request), 400) : undefined],
    ['usage', s.usage !== undefined ? compact(s.usage) : undefined],
    ['budget', s.budget !== undefined ? compact(s.budget) : undefined],
  ]);
  const lin = el('ol', 'lineage');
  for (const a of d.lineage) {
    const li = el('li');
    const link = el('a', '', a.task_id + (a.summary ? ' · ' + a.summary.task_type + ' · ' + a.summary.status : ' (not held here)'));
    link.addEventListener('click', () => select(a.task_id));
    li.append(link);
    lin.append(li);
  }
  lin.append(el('li', '', s.task_id + ' (this task)'));
  const pc = dl(Object.entries(d.parent_context));
  const evs = el('ol');
  evs.id = 'events';
  for (const rec of d.events.slice().reverse()) {
    evs.append(el('li', '', new Date(rec.at_ms).toISOString().slice(11, 23) + '  ' + eventText(rec)));
  }
  // The button and its result survive refreshes of the same task (a click is never lost).
  if (!panelCtl || panelCtl.id !== id) {
    const b = el('button', '', 'Cancel subtree');
    b.id = 'cancel-btn';
    const o = el('span', 'muted');
    o.id = 'cancel-result';
    b.addEventListener('click', () => cancel(id, b, o));
    panelCtl = { id, btn: b, out: o, sent: false };
  }
  const { btn, out } = panelCtl;
  btn.disabled = panelCtl.sent || !canCancel || !token || s.status !== 'running';
  btn.title = !canCancel ? 'read-only source' : !token ? 'open the URL with #token=… printed on the console' : 'cancelTree(' + s.task_id + ')';
  panel.replaceChildren(head, badge, btn, out, el('h3', '', 'Summary'), sum, el('h3', '', 'Lineage'), lin,
    el('h3', '', 'parent_context'), Object.keys(d.parent_context).length ? pc : el('p', 'muted', '(none)'),
    el('h3', '', 'Events (newest first)'), d.events.length ? evs : el('p', 'muted', '(none seen)'));
}
async function cancel(id, btn, out) {
  btn.disabled = true;
  if (panelCtl && panelCtl.id === id) panelCtl.sent = true;
  const res = await fetch('/cancel', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-inspector-token': token },
    body: JSON.stringify({ task_id: id }),
  });
  const body = await res.json().catch(() => ({}));
  out.textContent = res.ok ? 'signalled ' + body.signalled + ' task(s)' : 'refused: ' + (body.error || res.status);
}
function select(id) {
  const prev = selected && nodes.get(selected);
  selected = id;
  if (prev) paint(prev);
  const cur = nodes.get(id);
  if (cur) { paint(cur); cur.box.scrollIntoView({ block: 'nearest' }); }
  refreshDetail();
}
$('threads').addEventListener('click', (ev) => {
  const box = ev.target.closest('.node');
  if (box) select(box.dataset.taskId);
});
$('threads').addEventListener('keydown', (ev) => {
  const box = ev.target.closest('.node');
  if (box && (ev.key === 'Enter' || ev.key === ' ')) { ev.preventDefault(); select(box.dataset.taskId); }
});
const source = new EventSource('/events');
source.addEventListener('open', () => { $('conn').textContent = 'live'; $('conn').className = 'live'; });
source.addEventListener('error', () => { $('conn').textContent = 'reconnecting…'; $('conn').className = ''; });
source.addEventListener('snapshot', (m) => enqueue({ snapshot: JSON.parse(m.data) }));
source.addEventListener('batch', (m) => enqueue({ batch: JSON.parse(m.data) }));
})();
`;
