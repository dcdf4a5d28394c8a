// Inspire Edge web page: vanilla ES module, no build step. Talks to docs/API.md.
//
// data-testid reference (stable selectors for tests):
//   lang-toggle, new-chat, offline-badge                 header controls
//   message-list, message (data-role=user|assistant), message-time
//   progress, progress-step (data-tool, data-state=running|done|failed)
//   error, error-retry, error-dismiss                    error box (role=alert)
//   composer-input, send-button, char-counter            composer
//   tag-search, tag-listbox, tag-option                  tag autocomplete (combobox + listbox)
//   <body data-busy="true|false" data-phase="idle|exploring|…">  turn/restore in flight; current phase
//   empty-state, example (data-index=0..2)               empty state
//   directions, direction-card (data-index=1.., aria-pressed), tag-chip (data-category),
//   finalize-button                                      direction cards
//   waiting                                              question/message turn with no cards
//   safe-alternatives, safe-alternative                  content_unsafe alternatives
//   final-view, final-title, positive-prompt, negative-prompt, copy-positive, copy-negative,
//   params, usage-tips, quality-score, download-json, start-over, feedback-star (data-value)
import { LANGS, STRINGS } from './i18n.js';

const MAX = 500;
const KEY_SESSION = 'inspire.session';
const KEY_LANG = 'inspire.lang';
const KEY_DRAFT = 'inspire.draft';
const $ = (id) => document.getElementById(id);
const store = {
  get: (k) => { try { return localStorage.getItem(k); } catch { return null; } },
  set: (k, v) => { try { v == null ? localStorage.removeItem(k) : localStorage.setItem(k, v); } catch { /* private mode */ } },
};

const S = {
  lang: store.get(KEY_LANG) === 'en' ? 'en' : 'zh',
  session: null, phase: null, mode: null, access: 'all-ages',
  messages: [], directions: [], selected: null, final: null, createdAt: null,
  busy: false, restoring: false, steps: [], stepPhase: null, stepsMs: 0,
  error: null, alternatives: null, last: null, feedback: 0,
};
const t = (k, ...a) => { const v = STRINGS[S.lang][k]; return typeof v === 'function' ? v(...a) : v; };
const reduced = () => matchMedia('(prefers-reduced-motion: reduce)').matches;
const len = (s) => [...s].length;

// h('tag.cls', {attrs}, children...) → element. Strings become text nodes (never HTML).
function h(sel, attrs, ...kids) {
  const [tag, ...cls] = sel.split('.');
  const el = document.createElement(tag || 'div');
  if (cls.length) el.className = cls.join(' ');
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'testid') el.dataset.testid = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const k of kids.flat()) if (k != null && k !== false) el.append(k instanceof Node ? k : String(k));
  return el;
}
const hhmm = (at) => { const d = at ? new Date(at) : new Date(); return isNaN(d) ? '' : `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`; };

// ---------- API ----------
class ApiError extends Error {
  constructor(status, body, retryAfter) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    Object.assign(this, { status, code: e.code || (status ? `http_${status}` : 'network'), body: body || {}, retryAfter });
  }
}
async function api(path, opts = {}) {
  let res;
  try { res = await fetch(path, opts); } catch { throw new ApiError(0, null); }
  if (!res.ok) {
    const body = await res.json().catch(() => null);
    const ra = Number(res.headers.get('Retry-After')) || body?.error?.retry_after_s || body?.retry_after_s;
    throw new ApiError(res.status, body, ra);
  }
  return res;
}
// Reads an SSE body; calls onEvent(name, data) for each event; resolves with the `done` data.
async function readSSE(res, onEvent) {
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let buf = '', done, streamErr;
  const handle = (block) => {
    let ev = 'message'; const data = [];
    for (const line of block.split('\n')) {
      if (!line || line.startsWith(':')) continue;
      const i = line.indexOf(':');
      const f = i < 0 ? line : line.slice(0, i);
      const v = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
      if (f === 'event') ev = v; else if (f === 'data') data.push(v);
    }
    if (!data.length) return;
    let d; try { d = JSON.parse(data.join('\n')); } catch { d = data.join('\n'); }
    if (ev === 'done') done = d; else if (ev === 'error') streamErr = d;
    onEvent(ev, d);
  };
  for (;;) {
    let r;
    try { r = await reader.read(); } catch { break; }
    if (r.done) break;
    buf += dec.decode(r.value, { stream: true }).replace(/\r\n?/g, '\n');
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) { handle(buf.slice(0, i)); buf = buf.slice(i + 2); }
    if (done) { reader.cancel().catch(() => {}); break; }
  }
  if (!done && buf.trim()) handle(buf);
  if (done) return done;
  throw new ApiError(-1, streamErr && streamErr.error ? streamErr : { error: { code: 'stream_failed' } });
}

// ---------- turns ----------
// req: { kind: 'start'|'continue', body, text? (typed text, restored on error), note? (local bubble), focus? }
async function runTurn(req) {
  if (S.busy) return;
  S.busy = true; S.error = null; S.alternatives = null; S.steps = []; S.stepPhase = null; S.last = req;
  const started = performance.now();
  const bubble = req.text || req.note;
  if (bubble) S.messages.push({ role: 'user', content: bubble, at: new Date().toISOString(), local: true });
  if (req.text != null) { input.value = ''; updateCounter(); }
  $('progress').replaceChildren();
  const hadView = S.final ? 'final' : S.directions.length ? 'dirs' : '';
  render();
  try {
    const res = await api(`/api/inspire/${req.kind}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream' },
      body: JSON.stringify(req.body),
    });
    const out = (res.headers.get('Content-Type') || '').includes('event-stream')
      ? await readSSE(res, onStreamEvent) : await res.json();
    if (!out || out.error) throw new ApiError(-1, out);
    S.stepsMs = performance.now() - started;
    applyTurn(out);
    if (req.text != null) store.set(KEY_DRAFT, input.value || null);
    S.last = null;
  } catch (e) {
    if (bubble) { const i = S.messages.findLastIndex((m) => m.local && m.content === bubble); if (i >= 0) S.messages.splice(i, 1); }
    if (req.text != null) {
      const cur = input.value.trim();
      input.value = !cur ? req.text : cur.includes(req.text) ? input.value : `${req.text} ${input.value}`;
      updateCounter();
    }
    S.error = e instanceof ApiError ? e : new ApiError(0, null);
    if (S.error.code === 'content_unsafe') S.alternatives = S.error.body.safe_alternatives || S.error.body.error?.safe_alternatives || [];
    if (S.error.code === 'session_not_found') clearSession(false);
    S.steps = []; // the error box explains what happened; a half-done step list would only confuse
  } finally {
    S.busy = false;
    S.selPending = null;
    render();
    // On a stacked (phone) layout, new cards or the final prompt appear below the conversation:
    // bring them into view instead of focusing the textarea (which would pop up the keyboard).
    const nowView = S.final ? 'final' : S.directions.length ? 'dirs' : '';
    const stacked = matchMedia('(max-width: 860px)').matches;
    if (!S.error && stacked && nowView && nowView !== hadView) {
      $('view').scrollIntoView({ behavior: reduced() ? 'auto' : 'smooth', block: 'start' });
      if (req.focus === 'final' && S.final) $('final-title').focus({ preventScroll: true });
    } else {
      const f = S.error ? (req.text != null ? input : $('error-retry-btn')) : req.focus === 'final' && S.final ? $('final-title') : req.focus === 'card' ? null : input;
      if (f && !f.disabled) f.focus({ preventScroll: req.focus !== 'final' });
    }
  }
}
function onStreamEvent(ev, d) {
  if (ev === 'phase') { S.stepPhase = d.phase; if (!S.directions.length && !S.final) renderView(); }
  else if (ev === 'tool_started') S.steps.push({ id: d.call_id, tool: d.tool, label: d.label, state: 'running' });
  else if (ev === 'tool_finished') {
    const s = S.steps.find((x) => x.id === d.call_id) || S.steps.findLast((x) => x.tool === d.tool && x.state === 'running');
    if (s) Object.assign(s, { state: d.ok === false ? 'failed' : 'done', summary: d.summary, ms: d.duration_ms });
    else S.steps.push({ id: d.call_id, tool: d.tool, state: d.ok === false ? 'failed' : 'done', summary: d.summary, ms: d.duration_ms });
  } else return;
  renderProgress();
}
function applyTurn(r) {
  setSession(r.session_id);
  S.phase = r.phase || S.phase;
  if (r.mode) setMode(r.mode);
  if (Array.isArray(r.directions) && r.directions.length) S.directions = r.directions;
  S.selected = r.selected_direction ?? null;
  if (r.final_output) { S.final = r.final_output; S.createdAt = new Date().toISOString(); }
  const msgs = Array.isArray(r.message) ? r.message.map((m) => m.text ?? m) : r.message ? [r.message] : [];
  for (const m of msgs) S.messages.push({ role: 'assistant', content: String(m), at: new Date().toISOString() });
  for (const m of S.messages) delete m.local;
}
function setSession(id) { if (id && id !== S.session) { S.session = id; store.set(KEY_SESSION, id); } }
function clearSession(keepError) {
  Object.assign(S, { session: null, phase: null, messages: [], directions: [], selected: null, final: null, createdAt: null, steps: [], last: null, feedback: 0 });
  if (!keepError) { S.error = null; S.alternatives = null; }
  store.set(KEY_SESSION, null);
}

function send(text) {
  text = text.trim();
  if (!text || len(text) > MAX || S.busy || isClosed()) return;
  if (S.session) runTurn({ kind: 'continue', text, body: { session_id: S.session, message: text, action: null } });
  else runTurn({ kind: 'start', text, body: { message: text, user_access_level: S.access, language: LANGS[S.lang].api } });
}
function startFresh(text) {
  if (S.busy) return;
  clearSession();
  runTurn({ kind: 'start', text: null, note: text, body: { message: text, user_access_level: S.access, language: LANGS[S.lang].api } });
}
function selectDirection(n) {
  if (S.busy || isClosed() || !S.session) return;
  const d = S.directions[n - 1];
  S.selPending = n;
  runTurn({ kind: 'continue', note: t('selectMsg', n, d?.title || ''), focus: 'card', body: { session_id: S.session, action: { type: 'select', direction: n } } });
}
function finalize() {
  if (S.busy || !S.selected || isClosed()) return;
  runTurn({ kind: 'continue', note: t('finalizeMsg'), focus: 'final', body: { session_id: S.session, action: { type: 'finalize' } } });
}
const isClosed = () => S.phase === 'completed' || S.phase === 'aborted';

// ---------- restore / health ----------
async function restore() {
  const id = store.get(KEY_SESSION);
  if (!id) return;
  S.restoring = true; render();
  try {
    const st = await (await api(`/api/inspire/status/${encodeURIComponent(id)}`)).json();
    S.session = id;
    S.phase = st.phase; S.access = st.access_level || S.access;
    if (st.mode) setMode(st.mode);
    // A failed turn comes back as a `system` entry (failed: true) after its user message.
    S.messages = (st.messages || []).map((m) => ({ role: m.failed || m.role === 'system' ? 'system' : m.role, content: m.content, at: m.at }));
    S.directions = st.directions || [];
    S.selected = st.selected_direction ?? null;
    S.final = st.final_output || null;
    S.createdAt = st.updated_at || st.created_at || null;
    if (st.last_turn_status === 'running') setTimeout(restore, 2000);
  } catch (e) {
    if (e.status === 404 || e.status === 400) clearSession();
    else { S.error = e; S.last = { restore: true }; }
  } finally { S.restoring = false; render(); }
}
async function health() {
  try { setMode((await (await api('/api/health')).json()).mode); } catch { /* badge stays hidden */ }
}
function setMode(m) { S.mode = m; $('offline-badge').hidden = m !== 'offline'; }

// ---------- rendering ----------
const input = $('composer-input');
const CATS = ['CHARACTER', 'APPEARANCE', 'CLOTHING', 'SCENE', 'STYLE', 'EFFECT', 'ACTION', 'MOOD', 'QUALITY', 'META'];

function render() {
  const fk = document.activeElement?.dataset?.fk;
  document.body.dataset.busy = S.busy || S.restoring ? 'true' : 'false';
  document.body.dataset.phase = S.phase || 'idle';
  renderStatic(); renderMessages(); renderProgress(); renderError(); renderComposer(); renderView();
  if (fk) { const el = document.querySelector(`[data-fk="${fk}"]`); if (el && el !== document.activeElement) el.focus({ preventScroll: true }); }
}
function renderStatic() {
  const L = LANGS[S.lang];
  document.documentElement.lang = L.html;
  document.title = t('docTitle');
  $('lang-name').textContent = S.lang === 'zh' ? LANGS.en.name : LANGS.zh.name;
  $('lang-name').lang = S.lang === 'zh' ? 'en' : 'zh-Hant';
  $('lang-toggle').title = t('langLabel');
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll('[data-i18n-label]')) el.setAttribute('aria-label', t(el.dataset.i18nLabel));
  $('tag-search').placeholder = t('tagSearchPh');
}
// Messages and steps are updated in place (not rebuilt), so aria-live announces only what is new.
let shownMsgs = [], shownLang = null, shownRestoring = null;
function msgNode(m) {
  if (m.role === 'system') {
    return h('li.msg.notice', { testid: 'message', 'data-role': 'system' },
      h('p.text', {}, t('failedTurn'), ' ', h('time.time', { testid: 'message-time', datetime: m.at || '' }, hhmm(m.at))));
  }
  return h(`li.msg.${m.role === 'user' ? 'user' : 'agent'}`, { testid: 'message', 'data-role': m.role },
    h('span.avatar', { 'aria-hidden': 'true' }, m.role === 'user' ? '🙂' : '✨'),
    h('div.bubble', {},
      h('span.sr', {}, `${m.role === 'user' ? t('you') : t('agent')}：`),
      h('p.text', {}, m.content),
      h('time.time', { testid: 'message-time', datetime: m.at || '' }, hhmm(m.at))));
}
function renderMessages() {
  const list = $('messages');
  const same = shownLang === S.lang && shownMsgs.length <= S.messages.length && shownMsgs.every((m, i) => m === S.messages[i]);
  if (!S.messages.length) {
    if (shownMsgs.length || shownRestoring !== S.restoring || shownLang !== S.lang || !list.firstChild) list.replaceChildren(h('li.placeholder', {}, S.restoring ? t('restoring') : t('chatEmpty')));
  } else if (same && shownMsgs.length) {
    if (S.messages.length === shownMsgs.length) { $('msg-count').textContent = t('msgCount', S.messages.length); return; }
    list.append(...S.messages.slice(shownMsgs.length).map(msgNode));
  } else list.replaceChildren(...S.messages.map(msgNode));
  shownMsgs = [...S.messages]; shownLang = S.lang; shownRestoring = S.restoring;
  $('msg-count').textContent = S.messages.length ? t('msgCount', S.messages.length) : '';
  list.scrollTo({ top: list.scrollHeight, behavior: reduced() ? 'auto' : 'smooth' });
}
let stepsOpen = false;
function renderProgress() {
  const box = $('progress');
  if (!S.steps.length && !S.busy) { box.replaceChildren(); box.hidden = true; return; }
  box.hidden = false;
  let head = box.firstElementChild, ol = box.querySelector('ol.steps');
  if (!ol || box.dataset.lang !== S.lang) { head = h('div'); ol = h('ol.steps', { id: 'steps-list' }); box.replaceChildren(head, ol); box.dataset.lang = S.lang; }
  if (S.busy) {
    stepsOpen = false;
    const ph = S.stepPhase && STRINGS[S.lang].phases[S.stepPhase];
    const txt = `${t('thinking')}${ph ? ` · ${ph}` : ''}`;
    if (head.dataset.txt !== txt) {
      head.replaceWith(head = h('p.thinking', { 'data-txt': txt }, h('span.dots', { 'aria-hidden': 'true' }, h('i'), h('i'), h('i')), ' ', txt));
    }
  } else {
    const txt = t('stepsDone', S.steps.filter((s) => s.state === 'done').length, S.stepsMs);
    if (head.dataset.txt !== txt) {
      head.replaceWith(head = h('button.steps-toggle', { type: 'button', 'data-txt': txt, 'data-fk': 'steps', 'aria-controls': 'steps-list', onclick: () => { stepsOpen = !stepsOpen; renderProgress(); } }, h('span.caret', { 'aria-hidden': 'true' }, '▸'), ' ', txt));
    }
    head.setAttribute('aria-expanded', String(stepsOpen));
  }
  ol.hidden = !S.busy && !stepsOpen;
  const items = new Map([...ol.children].map((li) => [li.dataset.id, li]));
  S.steps.forEach((s, i) => {
    const id = String(s.id ?? i);
    let li = items.get(id);
    if (!li) {
      li = h('li.step', { testid: 'progress-step', 'data-id': id, 'data-tool': s.tool },
        h('span.icon', { 'aria-hidden': 'true' }), h('span.label', {}, STRINGS[S.lang].tools[s.tool] || s.label || s.tool));
      ol.append(li);
    }
    if (li.dataset.state !== s.state) {
      li.dataset.state = s.state; li.className = `step ${s.state}`;
      li.firstChild.textContent = s.state === 'running' ? '' : s.state === 'done' ? '✓' : '✕';
    }
    if (s.summary && !li.querySelector('.summary')) li.append(h('span.summary', {}, s.summary));
  });
}
function errText(e) {
  const m = e.body?.error?.message;
  switch (e.code) {
    case 'network': return t('errNetwork');
    case 'stream_failed': return t('errStream');
    case 'turn_in_progress': return t('errBusy');
    case 'session_closed': return t('errClosed');
    case 'rate_limited': return t('errRate', Math.max(1, Math.ceil(e.retryAfter || e.body?.error?.retry_after_s || 10)));
    case 'upstream_unavailable': return t('errUpstream');
    case 'session_not_found': return t('errGone');
    case 'payload_too_large': return t('errTooBig');
    case 'unauthorized': return t('errAuth');
    case 'content_unsafe': return m || t('errUnsafe');
    case 'validation_failed': case 'invalid_json': case 'bad_parameter': return m || t('errGeneric');
    default: return e.status >= 500 || e.status === -1 ? t('errGeneric') : m || t('errGeneric');
  }
}
function renderError() {
  const box = $('error');
  const e = S.error;
  box.hidden = !e;
  if (!e) { box.replaceChildren(); return; }
  const canRetry = S.last && !['session_closed', 'session_not_found', 'content_unsafe', 'unauthorized'].includes(e.code);
  box.replaceChildren(
    h('p.err-title', {}, h('span', { 'aria-hidden': 'true' }, '⚠️ '), t('errTitle')),
    h('p', { testid: 'error-message' }, errText(e)),
    S.last?.text && input.value.trim() ? h('p.muted.small', {}, t('keptText')) : null,
    h('div.row', {},
      canRetry ? h('button.btn.primary.small', { type: 'button', id: 'error-retry-btn', testid: 'error-retry', 'data-fk': 'retry', onclick: retry }, '↻ ', t('retry')) : null,
      ['session_closed', 'session_not_found'].includes(e.code) ? h('button.btn.small', { type: 'button', onclick: () => { clearSession(); render(); input.focus(); } }, t('newChat')) : null,
      h('button.btn.ghost.small', { type: 'button', testid: 'error-dismiss', onclick: () => { S.error = null; render(); input.focus(); } }, t('dismiss'))));
}
function retry() {
  const req = S.last;
  if (!req) return;
  if (req.restore) { S.error = null; S.last = null; restore(); return; }
  if (req.text != null) {
    // The typed text sits in the box again; send what is there now (same request unless edited).
    const cur = input.value.trim();
    if (cur && cur !== req.text) { send(cur); return; }
    if (cur === req.text) { runTurn(req); return; }
  }
  runTurn(req);
}
function renderComposer() {
  const closed = isClosed();
  input.disabled = S.busy || S.restoring || closed;
  input.placeholder = closed ? (S.phase === 'aborted' ? t('phAborted') : t('phDone')) : S.session ? t('phReply') : t('phStart');
  $('send').textContent = S.busy ? t('sending') : t('send');
  $('tag-search').disabled = closed;
  document.querySelector('.tagsearch').hidden = closed;
  updateCounter();
}
function updateCounter() {
  const n = len(input.value);
  const c = $('char-counter');
  c.textContent = n > MAX ? t('tooLong', n) : `${n}/${MAX}`;
  c.classList.toggle('over', n > MAX);
  input.setAttribute('aria-invalid', n > MAX ? 'true' : 'false');
  $('send').disabled = S.busy || S.restoring || isClosed() || !input.value.trim() || n > MAX;
}

function renderView() {
  const view = $('view');
  let node;
  if (S.alternatives && S.alternatives.length) node = viewAlternatives();
  else if (S.final && isClosed()) node = viewFinal();
  else if (S.directions.length) node = viewDirections();
  else if (S.busy || S.restoring) {
    const ph = S.stepPhase && STRINGS[S.lang].phases[S.stepPhase];
    node = h('div.skeleton', {}, h('p.sk-caption', {}, '✨ ', S.restoring ? t('restoring') : ph ? `${ph}…` : t('thinking')),
      h('div.sk.card', { 'aria-hidden': 'true' }), h('div.sk.card', { 'aria-hidden': 'true' }), h('div.sk.card', { 'aria-hidden': 'true' }));
  }
  else if (S.session || S.messages.length) node = h('div.waiting', { testid: 'waiting' }, h('span.big', { 'aria-hidden': 'true' }, '💬'), h('p', {}, t('waitTitle')));
  else node = viewEmpty();
  view.replaceChildren(node);
}
function viewEmpty() {
  return h('div.empty', { testid: 'empty-state' },
    h('span.big', { 'aria-hidden': 'true' }, '✨'),
    h('h3', {}, t('inviteTitle')),
    h('p.muted', {}, t('inviteSub')),
    h('p.try', {}, t('tryThese')),
    h('div.examples', {}, t('examples').map(([emoji, label, text], i) => h('button.example', {
      type: 'button', testid: 'example', 'data-index': i, 'data-fk': `ex${i}`, disabled: S.busy || null,
      onclick: () => { if (!S.busy) { input.value = text; send(text); } },
    }, h('span.emoji', { 'aria-hidden': 'true' }, emoji), h('span.ex-label', {}, label), h('span.ex-text', {}, text)))),
    h('ul.tips', {}, h('li', {}, t('tip1')), h('li', {}, t('tip2'))));
}
function chips(d) {
  const tags = Array.isArray(d.tags) && d.tags.length ? d.tags : (d.main_tags || []).map((name) => ({ name }));
  const cat = (c) => (CATS.includes(String(c).toUpperCase()) ? String(c).toUpperCase() : 'META');
  const shown = tags.slice(0, 10).map((g) => h('li.chip', { testid: 'tag-chip', 'data-category': cat(g.category), title: g.category ? cat(g.category) : null }, g.name.replace(/_/g, ' ')));
  if (tags.length > 10) shown.push(h('li.chip.more', { title: t('moreTags', tags.length - 10) }, h('span', { 'aria-hidden': 'true' }, `+${tags.length - 10}`), h('span.sr', {}, t('moreTags', tags.length - 10))));
  return h('ul.chips', {}, shown);
}
function viewDirections() {
  const dis = S.busy || isClosed();
  const cards = S.directions.map((d, i) => {
    const n = d.index || i + 1;
    const sel = S.selected === n;
    const pend = S.selPending === n;
    const act = () => { if (!dis && !sel) selectDirection(n); };
    return h(`li.card${sel ? '.selected' : ''}${pend ? '.pending' : ''}`, {
      testid: 'direction-card', 'data-index': n, 'data-fk': `card${n}`, role: 'button', tabindex: 0,
      'aria-pressed': sel ? 'true' : 'false', 'aria-disabled': dis ? 'true' : null,
      'aria-label': `${t('dirN', n)}：${d.title || ''}`, 'aria-describedby': `card-desc-${n}`,
      onclick: act,
      onkeydown: (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); act(); } },
    },
    h('div.card-head', {}, h('span.num', { 'aria-hidden': 'true' }, n), h('h4', {}, d.title || t('dirN', n))),
    h('div', { id: `card-desc-${n}` },
      d.concept ? h('p.concept', {}, d.concept) : null,
      d.vibe ? h('p.vibe', {}, h('strong', {}, `${t('vibe')}：`), d.vibe) : null),
    chips(d),
    h('span.pick', { 'aria-hidden': 'true' }, sel ? t('chosen') : pend ? t('sending') : t('choose')));
  });
  return h('div', { testid: 'directions' },
    h('h3.view-title', {}, t('dirsTitle')),
    h('ol.cards', {}, cards),
    h('div.finalize-bar', {},
      h('button.btn.primary', { type: 'button', testid: 'finalize-button', 'data-fk': 'finalize', disabled: dis || !S.selected || null, 'aria-describedby': 'finalize-hint', onclick: finalize }, '✨ ', t('finalize')),
      h('p.muted.small', { id: 'finalize-hint' }, S.selected ? t('refineHint') : t('finalizeHint'))));
}
function viewAlternatives() {
  return h('div', { testid: 'safe-alternatives' },
    h('h3.view-title', {}, t('altTitle')),
    h('ol.cards', {}, S.alternatives.map((a, i) => {
      const r = typeof a === 'string' ? { title: a } : a;
      const en = S.lang === 'en';
      const d = { ...r, title: (en && r.title_en) || r.title, concept: (en && r.concept_en) || r.concept };
      const text = [d.title, d.concept].filter(Boolean).join(en ? ': ' : '：').slice(0, MAX);
      const go = () => startFresh(text);
      return h('li.card', { testid: 'safe-alternative', role: 'button', tabindex: 0, 'data-fk': `alt${i}`, onclick: go, onkeydown: (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); go(); } } },
        h('div.card-head', {}, h('span.num', { 'aria-hidden': 'true' }, i + 1), h('h4', {}, d.title || '')),
        d.concept ? h('p.concept', {}, d.concept) : null,
        d.vibe && !en ? h('p.vibe', {}, h('strong', {}, `${t('vibe')}：`), d.vibe) : null,
        d.tags || d.main_tags ? chips(d) : null);
    })));
}
function copyBtn(id, text) {
  const b = h('button.btn.small', { type: 'button', testid: id, 'data-fk': id, onclick: async () => {
    let ok = true;
    try { await navigator.clipboard.writeText(text); } catch {
      // Fallback for browsers without the async clipboard (e.g. plain http).
      const ta = h('textarea', { readonly: true, 'aria-hidden': 'true' }, text);
      ta.className = 'sr'; document.body.append(ta); ta.select();
      try { ok = document.execCommand('copy'); } catch { ok = false; }
      ta.remove(); b.focus();
    }
    b.textContent = ok ? `✓ ${t('copied')}` : t('copyFail');
    clearTimeout(b._t); b._t = setTimeout(() => { b.textContent = t('copy'); }, 2000);
  } }, t('copy'));
  return b;
}
function viewFinal() {
  const f = S.final;
  const p = f.parameters || {};
  const q = Math.max(0, Math.min(100, Number(f.quality_score) || 0));
  const tips = Array.isArray(f.usage_tips) ? f.usage_tips : f.usage_tips ? [f.usage_tips] : [];
  const block = (label, id, text) => h('section.prompt', {},
    h('div.prompt-head', {}, h('h4', { id: `${id}-h` }, label), copyBtn(`copy-${id}`, text || '')),
    h('pre.mono', { testid: `${id}-prompt`, 'aria-labelledby': `${id}-h`, tabindex: 0 }, text || ''));
  return h('article.final', { testid: 'final-view' },
    h('p.done', {}, S.phase === 'aborted' ? t('finalAborted') : t('finalTitle')),
    h('h3', { id: 'final-title', testid: 'final-title', tabindex: -1 }, f.title || ''),
    f.concept ? h('p.concept', {}, f.concept) : null,
    block(t('positive'), 'positive', f.positive_prompt),
    block(t('negative'), 'negative', f.negative_prompt),
    h('section.params', {},
      h('h4', {}, t('params')),
      h('dl', { testid: 'params' }, [['cfg', p.cfg_scale], ['steps', p.steps], ['sampler', p.sampler], ['size', p.size]]
        .filter(([, v]) => v != null && v !== '').map(([k, v]) => h('div', {}, h('dt', {}, t(k)), h('dd', {}, String(v))))),
      tips.length ? h('div.tips-box', { testid: 'usage-tips' }, h('h5', {}, t('tips')), tips.map((x) => h('p', {}, String(x)))) : null,
      f.quality_score != null ? h('div.quality', {},
        h('span', { id: 'q-label' }, t('quality')),
        h('div.bar', { testid: 'quality-score', role: 'meter', 'aria-labelledby': 'q-label', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': q, 'aria-valuetext': `${q}/100` }, h('span.fill', { 'data-w': q })),
        h('strong', {}, `${q}/100`)) : null),
    h('div.row.actions', {},
      h('button.btn.primary', { type: 'button', testid: 'download-json', 'data-fk': 'dl', onclick: download }, '⬇ ', t('download')),
      h('button.btn', { type: 'button', testid: 'start-over', onclick: () => { clearSession(); store.set(KEY_DRAFT, null); input.value = ''; render(); input.focus(); } }, '↺ ', t('startOver'))),
    h('div.feedback', { role: 'group', 'aria-labelledby': 'fb-q' },
      h('span', { id: 'fb-q' }, t('feedbackQ')),
      S.feedback ? h('span.thanks', { role: 'status' }, t('feedbackThanks')) : [1, 2, 3, 4, 5].map((n) => h('button.star', { type: 'button', testid: 'feedback-star', 'data-value': n, 'aria-label': t('feedbackStar', n), onclick: () => feedback(n) }, '★'))));
}
function download() {
  const data = { ...S.final, session_id: S.session, created_at: S.createdAt || new Date().toISOString() };
  const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' }));
  const a = h('a', { href: url, download: `inspire-prompt-${Date.now()}.json`, hidden: true });
  document.body.append(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
async function feedback(n) {
  S.feedback = n; render();
  try { await api('/api/inspire/feedback', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ session_id: S.session, satisfaction: n, would_use_again: n >= 4 }) }); } catch { /* best effort */ }
}

// ---------- tag search (combobox) ----------
const tagBox = $('tag-search');
const listbox = $('tag-listbox');
let tagTimer, tagSeq = 0, tagItems = [], tagActive = -1;
function setActive(i) {
  tagActive = i;
  [...listbox.children].forEach((li, j) => li.setAttribute('aria-selected', j === i ? 'true' : 'false'));
  const li = listbox.children[i];
  if (li && li.id) { tagBox.setAttribute('aria-activedescendant', li.id); li.scrollIntoView({ block: 'nearest' }); } else tagBox.removeAttribute('aria-activedescendant');
}
function closeList() { listbox.hidden = true; tagBox.setAttribute('aria-expanded', 'false'); tagBox.removeAttribute('aria-activedescendant'); tagItems = []; tagActive = -1; }
function showList(items) {
  tagItems = items;
  listbox.replaceChildren(...(items.length ? items.map((r, i) => h('li.opt', {
    id: `tag-opt-${i}`, role: 'option', testid: 'tag-option', 'aria-selected': 'false', 'data-name': r.name,
    onmousedown: (e) => { e.preventDefault(); pickTag(i); },
  }, h('span.dot', { 'data-category': CATS.includes(r.category) ? r.category : 'META', 'aria-hidden': 'true' }), h('span.opt-name', {}, r.name),
  r.post_count != null ? h('span.muted.small', {}, t('posts', Number(r.post_count).toLocaleString())) : null))
    : [h('li.none', { role: 'option', 'aria-disabled': 'true' }, t('tagNone'))]));
  listbox.hidden = false; tagBox.setAttribute('aria-expanded', 'true'); setActive(-1);
}
function pickTag(i) {
  const r = tagItems[i];
  if (!r) return;
  const phrase = t('tagAdd', r.name);
  const cur = input.value.replace(/\s+$/, '');
  input.value = cur ? `${cur}${t('tagJoin')}${phrase}` : phrase;
  store.set(KEY_DRAFT, input.value);
  updateCounter(); tagBox.value = ''; closeList();
}
tagBox.addEventListener('input', () => {
  clearTimeout(tagTimer);
  const q = tagBox.value.trim();
  if (!q) { closeList(); return; }
  tagTimer = setTimeout(async () => {
    const seq = ++tagSeq;
    try {
      const r = await (await api(`/api/tags/search?q=${encodeURIComponent(q)}&limit=8&rating=${encodeURIComponent(S.access)}`)).json();
      if (seq === tagSeq && tagBox.value.trim() === q) showList(r.results || []);
    } catch { if (seq === tagSeq) closeList(); }
  }, 150);
});
tagBox.addEventListener('keydown', (e) => {
  const n = tagItems.length;
  if (e.key === 'ArrowDown' && n) { e.preventDefault(); if (listbox.hidden) listbox.hidden = false; setActive((tagActive + 1) % n); }
  else if (e.key === 'ArrowUp' && n) { e.preventDefault(); setActive(tagActive <= 0 ? n - 1 : tagActive - 1); }
  else if (e.key === 'Enter') { e.preventDefault(); if (n) pickTag(tagActive >= 0 ? tagActive : 0); }
  else if (e.key === 'Escape' && !listbox.hidden) { e.preventDefault(); closeList(); }
});
tagBox.addEventListener('blur', () => setTimeout(closeList, 100));

// ---------- wiring ----------
$('composer').addEventListener('submit', (e) => { e.preventDefault(); send(input.value); });
input.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) { e.preventDefault(); send(input.value); }
});
input.addEventListener('input', () => { updateCounter(); store.set(KEY_DRAFT, input.value || null); });
$('offline-btn').addEventListener('click', (e) => { const b = e.currentTarget; b.setAttribute('aria-expanded', String(b.getAttribute('aria-expanded') !== 'true')); });
$('offline-btn').addEventListener('keydown', (e) => { if (e.key === 'Escape') e.currentTarget.setAttribute('aria-expanded', 'false'); });
$('offline-btn').addEventListener('blur', (e) => e.currentTarget.setAttribute('aria-expanded', 'false'));
$('lang-toggle').addEventListener('click', () => { S.lang = S.lang === 'zh' ? 'en' : 'zh'; store.set(KEY_LANG, S.lang); render(); });
$('new-chat').addEventListener('click', () => { if (S.busy) return; clearSession(); render(); input.focus(); });
// Quality bar width is set through CSSOM (works under a strict CSP, unlike style="").
new MutationObserver(() => { for (const el of document.querySelectorAll('.fill[data-w]')) el.style.width = `${el.dataset.w}%`; })
  .observe($('view'), { childList: true, subtree: true });

input.value = store.get(KEY_DRAFT) || '';
render();
health();
restore();
