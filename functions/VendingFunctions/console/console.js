// The operator console: plain JavaScript, no build step. Everything it shows comes from /api/operator/...; the
// functions authorize every call (a viewer's page simply offers no change buttons, and the API refuses them anyway).
'use strict';

const API = new URL('../operator/', document.baseURI).pathname; // /api/operator/ wherever the page is served
const STATES = ['Created', 'Authorized', 'Settling', 'Captured', 'Cancelled', 'Aborted', 'Expired', 'Failed', 'Refunded'];
let me = null;          // the signed-in caller: { name, role, canChange }
let merchants = [];     // for the provision form
let loadSeq = 0;        // a newer screen wins over a slower older one

// ---- small helpers ----------------------------------------------------------------------------------------------

/** Builds an element: h('td', { class: 'num', 'data-testid': 'x' }, 'text', child, ...). Text is never parsed as HTML. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const view = () => document.getElementById('view');

function showError(message) {
  const box = document.getElementById('error');
  box.textContent = message;
  box.hidden = !message;
}

/** A refusal of the API: its problem+json title (what went wrong, in words), code and field. */
class ApiError extends Error {
  constructor(status, problem) {
    const text = problem?.detail || problem?.title || `HTTP ${status}`;
    super(problem?.code ? `${text} (${problem.code}${problem.field ? `, field ${problem.field}` : ''})` : text);
    this.status = status;
    this.problem = problem;
  }
}

async function api(path, { method = 'GET', body } = {}) {
  const busy = document.getElementById('busy');
  busy.hidden = false;
  try {
    const response = await fetch(API + path, {
      method,
      credentials: 'same-origin',
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const type = response.headers.get('content-type') || '';
    const data = type.includes('json') ? await response.json() : await response.text();
    if (!response.ok) throw new ApiError(response.status, typeof data === 'object' ? data : null);
    return data;
  } finally {
    busy.hidden = true;
  }
}

/** Minor units in the currency's own decimals (NOK 2500 -> "kr 25,00"), via the browser's currency data. */
function money(minor, currency) {
  if (minor === undefined || minor === null) return '';
  const format = new Intl.NumberFormat(undefined, { style: 'currency', currency });
  const digits = format.resolvedOptions().maximumFractionDigits;
  return format.format(minor / 10 ** digits);
}

function digitsOf(currency) {
  return new Intl.NumberFormat(undefined, { style: 'currency', currency }).resolvedOptions().maximumFractionDigits;
}

const when = (iso) => (iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' }) : '');
const stateTag = (state) => h('span', { class: `state ${state}`, 'data-testid': 'state' }, state);
const requestId = () => (crypto.randomUUID ? crypto.randomUUID() : `r-${Date.now()}-${Math.random().toString(16).slice(2)}`).slice(0, 40);
const canChange = () => !!me?.canChange;
/** datetime-local value (the operator's local time) -> ISO UTC, or undefined when empty. */
const toIso = (local) => (local ? new Date(local).toISOString() : undefined);
const query = (params) => new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== '')).toString();

/** Runs a screen; a newer navigation wins, and a refusal is shown without blocking anything. */
async function screen(render) {
  const seq = ++loadSeq;
  showError('');
  try {
    const content = await render();
    if (seq === loadSeq) view().replaceChildren(...[content].flat(Infinity).filter((c) => c !== null && c !== undefined));
  } catch (error) {
    if (seq !== loadSeq) return;
    if (error instanceof ApiError && error.status === 401) return signedOut();
    showError(error.message);
  }
}

/** Runs an action from a button: disables it meanwhile, shows the API's refusal, returns the result or undefined. */
async function act(button, action) {
  showError('');
  if (button) button.disabled = true;
  try {
    return await action();
  } catch (error) {
    showError(error.message);
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

// ---- sign-in ----------------------------------------------------------------------------------------------------

function signedOut() {
  document.getElementById('nav').hidden = true;
  document.getElementById('who').replaceChildren();
  const back = encodeURIComponent(location.pathname + location.hash);
  view().replaceChildren(h('div', { class: 'card', 'data-testid': 'signed-out' },
    h('h2', {}, 'Sign in'),
    h('p', {}, 'The console is for people with the role Vending.Operator or Vending.Viewer.'),
    h('p', {}, h('a', { href: `/.auth/login/aad?post_login_redirect_uri=${back}`, 'data-testid': 'sign-in' }, 'Sign in with Microsoft Entra ID')),
    h('p', { class: 'muted' }, 'Running locally? ', h('a', { href: `/.auth/login/local?post_login_redirect_uri=${back}`, 'data-testid': 'sign-in-local' }, 'Local sign-in'),
      ' (the local Functions host with FunctionsHost:LocalSignIn).')));
}

async function signIn() {
  try {
    me = await api('me');
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return false;
    showError(error.message);
    return false;
  }
  document.getElementById('nav').hidden = false;
  document.getElementById('who').replaceChildren(
    h('span', { 'data-testid': 'who-name' }, me.name),
    h('span', { class: `role ${me.canChange ? '' : 'viewer'}`, 'data-testid': 'who-role' }, me.kind === 'FunctionKey' ? 'function key' : `Vending.${me.role}`),
    h('a', { href: `/.auth/logout?post_logout_redirect_uri=${encodeURIComponent(location.pathname)}` }, 'Sign out'));
  return true;
}

// ---- fleet ------------------------------------------------------------------------------------------------------

async function fleetScreen() {
  const [{ machines }, summary, merchantList] = await Promise.all([api('machines'), api('summary'), api('merchants')]);
  merchants = merchantList.merchants;
  const today = new Map(summary.today.machines.map((f) => [`${f.key}|${f.currency}`, f]));
  // The latest sale of each machine: one small page each, side by side.
  const latest = await Promise.all(machines.map((m) => api(`sales?${query({ machineId: m.machineId, pageSize: 1 })}`).then((p) => p.sales[0]).catch(() => undefined)));
  const rows = machines.map((m, i) => {
    const figures = today.get(`${m.machineId}|${m.currency}`);
    const last = latest[i];
    return h('tr', { 'data-testid': `machine-${m.machineId}` },
      h('td', {}, h('a', { href: `#sales?machineId=${encodeURIComponent(m.machineId)}` }, m.machineId), h('div', { class: 'muted' }, `${m.name}, ${m.location}`)),
      h('td', {}, m.merchantId), h('td', {}, m.currency), h('td', {}, m.captureMode),
      h('td', { 'data-testid': 'enabled' }, m.enabled ? 'yes' : 'no'),
      h('td', { 'data-testid': 'key-age', title: `key issued ${when(m.keyRotatedAt)}; machine provisioned ${when(m.createdAt)}` }, age(m.keyRotatedAt)),
      h('td', {}, last ? [h('a', { href: `#sale/${encodeURIComponent(last.reference)}` }, when(last.createdAt)), ' ', stateTag(last.state)] : h('span', { class: 'muted' }, 'none')),
      h('td', { class: 'num' }, figures?.count ?? 0),
      h('td', { class: 'num' }, money(figures?.captured ?? 0, m.currency)),
      h('td', {}, canChange() ? [
        h('button', { 'data-testid': 'rotate', onclick: (e) => rotate(e.target, m) }, 'Rotate key'), ' ',
        h('button', { 'data-testid': m.enabled ? 'disable' : 'enable', onclick: (e) => setEnabled(e.target, m, !m.enabled) }, m.enabled ? 'Disable' : 'Enable'),
      ] : null));
  });
  return [
    h('h2', {}, 'Fleet'),
    h('div', { id: 'secret-box' }),
    canChange() ? provisionForm() : null,
    h('table', { 'data-testid': 'fleet' },
      h('thead', {}, h('tr', {}, ['Machine', 'Merchant', 'Currency', 'Capture', 'Enabled', 'Key age', 'Last sale', 'Sales today', 'Captured today', '']
        .map((t, i) => h('th', { class: i === 7 || i === 8 ? 'num' : undefined }, t)))),
      h('tbody', {}, rows)),
  ];
}

/** How long ago the machine's current key was issued (provision or last rotation), in whole days. */
function age(iso) {
  const days = Math.floor((Date.now() - new Date(iso).getTime()) / 86_400_000);
  return days < 1 ? 'today' : `${days} d`;
}

function provisionForm() {
  const currencies = (merchantId) => merchants.find((m) => m.merchantId === merchantId)?.currencies ?? [];
  const merchant = h('select', { name: 'merchantId', 'data-testid': 'provision-merchant' }, merchants.map((m) => h('option', { value: m.merchantId }, `${m.merchantId} (${m.brand})`)));
  const currency = h('select', { name: 'currency', 'data-testid': 'provision-currency' });
  const fillCurrencies = () => currency.replaceChildren(...currencies(merchant.value).map((c) => h('option', { value: c }, c)));
  merchant.addEventListener('change', fillCurrencies);
  fillCurrencies();
  const form = h('form', { class: 'inline', 'data-testid': 'provision' },
    h('label', {}, 'Machine id', h('input', { name: 'machineId', required: true, pattern: '[a-z0-9\\-]{3,32}', placeholder: 'lobby-2', 'data-testid': 'provision-id' })),
    h('label', {}, 'Name', h('input', { name: 'name', required: true, maxlength: 100, 'data-testid': 'provision-name' })),
    h('label', {}, 'Location', h('input', { name: 'location', required: true, maxlength: 200, 'data-testid': 'provision-location' })),
    h('label', {}, 'Merchant', merchant),
    h('label', {}, 'Currency', currency),
    h('label', {}, 'Capture', h('select', { name: 'captureMode' }, h('option', { value: 'OnDelivery' }, 'on delivery'), h('option', { value: 'OnAuthorization' }, 'on authorization'))),
    h('button', { class: 'primary', type: 'submit', 'data-testid': 'provision-submit' }, 'Provision machine'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = Object.fromEntries(new FormData(form));
    const created = await act(form.querySelector('button'), () => api('machines', { method: 'POST', body: data }));
    if (created) {
      await route();
      showSecret(created.machine.machineId, created.apiKey, 'provisioned');
    }
  });
  return form;
}

/** The api key, shown this once: copyable, with the kiosk link when the console runs locally. */
function showSecret(machineId, apiKey, what) {
  const local = ['127.0.0.1', 'localhost', '[::1]'].includes(location.hostname);
  const kiosk = `${location.origin}/kiosk/#machine=${encodeURIComponent(machineId)}&key=${encodeURIComponent(apiKey)}`;
  const copy = h('button', { 'data-testid': 'copy-key', onclick: async (e) => { await navigator.clipboard?.writeText(apiKey).catch(() => {}); e.target.textContent = 'Copied'; } }, 'Copy');
  document.getElementById('secret-box')?.replaceChildren(h('div', { class: 'notice', 'data-testid': 'secret' },
    h('strong', {}, `Machine ${machineId} ${what}. Its api key, shown only now:`),
    h('div', { class: 'secret', 'data-testid': 'api-key' }, apiKey), copy,
    local ? h('p', {}, h('a', { href: kiosk, target: '_blank', 'data-testid': 'kiosk-link' }, 'Open the kiosk for this machine')) : null));
}

async function rotate(button, machine) {
  const rotated = await act(button, () => api(`machines/${encodeURIComponent(machine.machineId)}/rotate`, { method: 'POST' }));
  if (rotated) showSecret(machine.machineId, rotated.apiKey, 'has a new key (the old one works for the grace period)');
}

async function setEnabled(button, machine, enabled) {
  if (await act(button, () => api(`machines/${encodeURIComponent(machine.machineId)}/${enabled ? 'enable' : 'disable'}`, { method: 'POST' }))) await route();
}

// ---- sales ------------------------------------------------------------------------------------------------------

async function salesScreen(params) {
  const form = h('form', { class: 'inline', 'data-testid': 'sales-filter' },
    h('label', {}, 'Machine', h('input', { name: 'machineId', value: params.get('machineId') ?? '', placeholder: 'all', 'data-testid': 'filter-machine' })),
    h('label', {}, 'State', h('select', { name: 'state', 'data-testid': 'filter-state' }, h('option', { value: '' }, 'any'),
      STATES.map((s) => h('option', { value: s, selected: params.get('state') === s }, s)))),
    h('label', {}, 'From', h('input', { type: 'datetime-local', name: 'from', value: params.get('from') ?? '' })),
    h('label', {}, 'To', h('input', { type: 'datetime-local', name: 'to', value: params.get('to') ?? '' })),
    h('button', { class: 'primary', type: 'submit' }, 'Show'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    location.hash = `#sales?${query(Object.fromEntries(new FormData(form)))}`;
  });
  const body = h('tbody');
  const more = h('button', { class: 'more', 'data-testid': 'more', hidden: true }, 'More');
  const request = { machineId: params.get('machineId') || undefined, state: params.get('state') || undefined,
    from: toIso(params.get('from')), to: toIso(params.get('to')), pageSize: 25 };
  const load = async (token) => {
    const page = await api(`sales?${query({ ...request, continuationToken: token })}`);
    body.append(...page.sales.map(saleRow));
    more.hidden = !page.continuationToken;
    more.onclick = () => act(more, () => load(page.continuationToken));
    if (!body.children.length && !page.continuationToken) body.append(h('tr', {}, h('td', { colspan: 8, class: 'muted' }, 'No sales.')));
  };
  await load(undefined);
  return [h('h2', {}, 'Sales'), form,
    h('table', { 'data-testid': 'sales' }, h('thead', {}, h('tr', {}, ['Created', 'Reference', 'Machine', 'State', 'Amount', 'Captured', 'Refunded', 'Merchant']
      .map((t, i) => h('th', { class: i >= 4 && i <= 6 ? 'num' : undefined }, t)))), body), more];
}

function saleRow(sale) {
  return h('tr', { 'data-testid': `sale-${sale.reference}` },
    h('td', {}, when(sale.createdAt)),
    h('td', {}, h('a', { href: `#sale/${encodeURIComponent(sale.reference)}`, 'data-testid': 'sale-link' }, sale.reference)),
    h('td', {}, sale.machineId), h('td', {}, stateTag(sale.state)),
    h('td', { class: 'num' }, money(sale.amount, sale.currency)),
    h('td', { class: 'num' }, money(sale.capturedAmount, sale.currency)),
    h('td', { class: 'num' }, money(sale.refundedAmount, sale.currency)),
    h('td', {}, sale.merchantId));
}

// ---- one sale ---------------------------------------------------------------------------------------------------

async function saleScreen(reference) {
  const { sale, history, audit } = await api(`sales/${encodeURIComponent(reference)}`);
  const vipps = h('div', { class: 'card', 'data-testid': 'vipps-view' }, h('h3', {}, 'Vipps MobilePay\u2019s view'), h('p', { class: 'muted' }, 'Asking Vipps…'));
  // Vipps' view loads on its own: a slow or failing answer never holds the rest of the page.
  api(`sales/${encodeURIComponent(reference)}/vipps`).then((details) => vipps.replaceChildren(h('h3', {}, 'Vipps MobilePay\u2019s view'),
    h('dl', { class: 'kv' },
      h('dt', {}, 'State'), h('dd', { 'data-testid': 'vipps-state' }, details.state),
      h('dt', {}, 'Authorized'), h('dd', {}, money(details.aggregate.authorizedAmount.value, details.aggregate.authorizedAmount.currency)),
      h('dt', {}, 'Captured'), h('dd', { 'data-testid': 'vipps-captured' }, money(details.aggregate.capturedAmount.value, details.aggregate.capturedAmount.currency)),
      h('dt', {}, 'Cancelled'), h('dd', {}, money(details.aggregate.cancelledAmount.value, details.aggregate.cancelledAmount.currency)),
      h('dt', {}, 'Refunded'), h('dd', { 'data-testid': 'vipps-refunded' }, money(details.aggregate.refundedAmount.value, details.aggregate.refundedAmount.currency)),
      h('dt', {}, 'PSP reference'), h('dd', {}, details.pspReference ?? '')))).catch((error) => vipps.replaceChildren(h('h3', {}, 'Vipps MobilePay\u2019s view'), h('p', { class: 'muted' }, error.message)));

  const c = sale.currency;
  const ours = h('div', { class: 'card', 'data-testid': 'our-view' }, h('h3', {}, 'Our view'), h('dl', { class: 'kv' },
    h('dt', {}, 'State'), h('dd', {}, stateTag(sale.state), sale.failureCode ? ` ${sale.failureCode}` : ''),
    h('dt', {}, 'Machine'), h('dd', {}, `${sale.machineId} (${sale.machineSaleId})`),
    h('dt', {}, 'Merchant'), h('dd', {}, sale.merchantId),
    h('dt', {}, 'Amount'), h('dd', {}, money(sale.amount, c)),
    h('dt', {}, 'Authorized'), h('dd', { 'data-testid': 'authorized' }, money(sale.authorizedAmount, c)),
    h('dt', {}, 'Captured'), h('dd', { 'data-testid': 'captured' }, money(sale.capturedAmount, c)),
    h('dt', {}, 'Cancelled'), h('dd', {}, money(sale.cancelledAmount, c)),
    h('dt', {}, 'Refunded'), h('dd', { 'data-testid': 'refunded' }, money(sale.refundedAmount, c)),
    h('dt', {}, 'Created'), h('dd', {}, when(sale.createdAt))));

  const lines = h('table', { 'data-testid': 'lines' }, h('thead', {}, h('tr', {}, h('th', {}, 'Product'), h('th', { class: 'num' }, 'Qty'), h('th', { class: 'num' }, 'Unit price'), h('th', { class: 'num' }, 'Total'))),
    h('tbody', {}, sale.lines.map((l) => h('tr', {}, h('td', {}, l.name), h('td', { class: 'num' }, l.quantity), h('td', { class: 'num' }, money(l.unitPrice, c)), h('td', { class: 'num' }, money(l.totalAmount, c))))));

  // One timeline: the sale's own history and the operator actions on it (who did what), oldest first.
  const entries = [
    ...history.map((e) => ({ at: e.at ?? e.time, text: `${e.type}${e.detail ? `: ${e.detail}` : ''}`, state: e.state, kind: 'history' })),
    ...audit.map((a) => ({ at: a.at, text: `${a.action} by ${a.actorName}${a.actorObjectId ? ` (${a.actorObjectId})` : ''}: ${a.outcome} (${a.status}), request ${a.requestId}`, kind: 'audit' })),
  ].sort((a, b) => new Date(a.at) - new Date(b.at));
  const timeline = h('ul', { class: 'timeline', 'data-testid': 'timeline' }, entries.map((e) =>
    h('li', { class: e.kind }, h('time', {}, when(e.at)), e.text, e.state ? [' ', stateTag(e.state)] : null)));

  return [h('h2', {}, `Sale ${sale.reference}`), h('div', { id: 'secret-box' }),
    h('div', { class: 'cols' }, ours, vipps),
    canChange() ? actions(sale) : null,
    h('h3', {}, 'Lines'), lines, h('h3', {}, 'Timeline'), timeline];
}

function actions(sale) {
  const c = sale.currency;
  const digits = digitsOf(c);
  const refundable = sale.capturedAmount - sale.refundedAmount;
  const box = h('div', { class: 'card', 'data-testid': 'actions' }, h('h3', {}, 'Actions'));
  const reload = () => route();
  if (refundable > 0) {
    const amount = h('input', { type: 'number', min: 1 / 10 ** digits, step: 1 / 10 ** digits, max: refundable / 10 ** digits, value: (refundable / 10 ** digits).toFixed(digits), 'data-testid': 'refund-amount' });
    const confirm = h('div', { 'data-testid': 'refund-confirm', hidden: true });
    const start = h('button', { 'data-testid': 'refund', onclick: () => {
      const minor = Math.round(Number(amount.value) * 10 ** digits);
      if (!(minor >= 1 && minor <= refundable)) return showError(`A refund is from ${money(1, c)} to ${money(refundable, c)} (what is captured and not yet refunded).`);
      const id = requestId(); // one id for this refund: a retried click is the same refund, never a second one
      confirm.replaceChildren(`Refund ${money(minor, c)} of ${sale.reference}? `,
        h('button', { class: 'danger', 'data-testid': 'refund-yes', onclick: async (e) => {
          if (await act(e.target, () => api(`sales/${encodeURIComponent(sale.reference)}/refunds`, { method: 'POST', body: { amount: minor, requestId: id } }))) reload();
        } }, 'Yes, refund'), ' ',
        h('button', { onclick: () => { confirm.hidden = true; } }, 'No'));
      confirm.hidden = false;
    } }, 'Refund…');
    box.append(h('p', {}, `Up to ${money(refundable, c)} can be refunded. `, amount, ' ', start), confirm);
  }
  // The server decides whether a retry or release is allowed; the page offers them where they can apply: a retry
  // runs a Failed sale's refused operation again, which needs money still reserved (a capture or release) or
  // captured and not refunded (a refund); a release needs money reserved.
  const reserved = sale.authorizedAmount - sale.capturedAmount - sale.cancelledAmount;
  if (sale.state === 'Failed' && (reserved > 0 || sale.capturedAmount - sale.refundedAmount > 0)) {
    box.append(h('p', {}, h('button', { 'data-testid': 'retry', onclick: async (e) => {
      if (await act(e.target, () => api(`sales/${encodeURIComponent(sale.reference)}/retry`, { method: 'POST', body: { requestId: requestId() } }))) reload();
    } }, 'Retry the failed operation')));
  }
  if (reserved > 0 && !['Captured', 'Refunded', 'Cancelled'].includes(sale.state)) {
    box.append(h('p', {}, h('button', { class: 'danger', 'data-testid': 'release', onclick: async (e) => {
      if (await act(e.target, () => api(`sales/${encodeURIComponent(sale.reference)}/release`, { method: 'POST', body: { requestId: requestId() } }))) reload();
    } }, `Release the ${money(reserved, c)} still reserved`)));
  }
  if (box.children.length === 1) box.append(h('p', { class: 'muted' }, 'Nothing to do for this sale.'));
  return box;
}

// ---- routing ----------------------------------------------------------------------------------------------------

async function route() {
  if (!me && !(await signIn())) return signedOut();
  const [name, rest = ''] = location.hash.slice(1).split('?');
  const params = new URLSearchParams(rest);
  for (const link of document.querySelectorAll('#nav a')) link.classList.toggle('current', link.getAttribute('href') === `#${name.split('/')[0] || 'fleet'}`);
  if (name.startsWith('sale/')) return screen(() => saleScreen(decodeURIComponent(name.slice(5))));
  switch (name) {
    case 'sales': return screen(() => salesScreen(params));
    case 'reconciliation': return screen(reconciliationScreen);
    case 'summary': return screen(summaryScreen);
    case 'audit': return screen(() => auditScreen(params));
    default: return screen(fleetScreen);
  }
}

window.addEventListener('hashchange', route);
route();
