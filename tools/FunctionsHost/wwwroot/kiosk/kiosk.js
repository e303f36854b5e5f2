// The reference kiosk: sells one product through the public machine API.
//
//   POST /api/payments                         create the sale, get the QR       (idempotent on machineSaleId)
//   GET  /api/payments/{ref}?wait=20&state=S   long-poll: answers when the state is no longer S (or after 20 s)
//   POST /api/payments/{ref}/vend              report what the dispenser delivered (the backend captures that)
//   POST /api/payments/{ref}/cancel            the customer gave up
//
// The machine learns of the payment from the backend, never from the QR scan. It dispenses only in Authorized,
// and it shows "thank you" only when the backend says Captured. Copy freely; see docs/kiosk.md.
'use strict';

// ---- Configuration: from the URL fragment, which the browser never sends to a server --------------------------
const params = new URLSearchParams(location.hash.slice(1));
const config = {
  machineId: params.get('machine') || '',
  apiKey: params.get('key') || '',                          // "{machineId}.{secret}"
  api: (params.get('api') || new URL('/api', location.href).href).replace(/\/+$/, ''),
  currency: (params.get('currency') || 'NOK').toUpperCase(),
  qrFormat: params.get('qr') || 'svg',                      // svg | png | url
  locale: params.get('lang') || navigator.language || 'en',
};

const POLL_WAIT_SECONDS = 20;       // server holds the request up to this long (the API allows at most 25)
const REQUEST_TIMEOUT_MS = 15000;   // for the short calls; a long-poll gets POLL_WAIT_SECONDS on top
const DISPENSE_MS = 800;            // stands in for the motor: a real machine reports when its sensor says so
const BACK_TO_START_MS = 30000;     // the ending stays on screen this long
const EXPIRED_GRACE_MS = 30000;     // still Created this long after expiry: the machine gives up (cancel)

// ---- Catalogue: a small hard-coded list per currency; prices in minor units, taxRate in percent x 100 ----------
const CATALOGUES = {
  NOK: [
    { id: 'cola', name: 'Cola 0.5 l', icon: '🥤', unitPrice: 3500, taxRate: 1500 },
    { id: 'water', name: 'Water 0.5 l', icon: '💧', unitPrice: 2500, taxRate: 1500 },
    { id: 'coffee', name: 'Coffee', icon: '☕', unitPrice: 3900, taxRate: 1500 },
    { id: 'chips', name: 'Potato chips', icon: '🥔', unitPrice: 2900, taxRate: 1500 },
    { id: 'apple', name: 'Apple', icon: '🍎', unitPrice: 1200, taxRate: 1500 },
    { id: 'bar-2pack', name: '2 × chocolate bar', icon: '🍫', unitPrice: 1900, quantity: 2, taxRate: 1500 },
  ],
  DKK: [
    { id: 'cola', name: 'Cola 0,5 l', icon: '🥤', unitPrice: 2200, taxRate: 2500 },
    { id: 'water', name: 'Vand 0,5 l', icon: '💧', unitPrice: 1500, taxRate: 2500 },
    { id: 'coffee', name: 'Kaffe', icon: '☕', unitPrice: 2500, taxRate: 2500 },
    { id: 'chips', name: 'Chips', icon: '🥔', unitPrice: 1800, taxRate: 2500 },
    { id: 'apple', name: 'Æble', icon: '🍎', unitPrice: 800, taxRate: 2500 },
    { id: 'bar-2pack', name: '2 × chokoladebar', icon: '🍫', unitPrice: 1200, quantity: 2, taxRate: 2500 },
  ],
};

// The states after which nothing more happens to the sale on this screen.
const FINAL = new Set(['Captured', 'Cancelled', 'Aborted', 'Expired', 'Failed', 'Refunded']);

// ---- Small helpers -------------------------------------------------------------------------------------------
const $ = (id) => document.getElementById(id);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
// 1 s, 2 s, 4 s ... capped at 15 s, with jitter so a fleet of machines does not retry in step.
const backoff = (attempt) => Math.min(15000, 1000 * 2 ** Math.min(attempt, 4)) * (0.75 + Math.random() * 0.5);

const fractionDigits = (currency) =>
  new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits;

/** 3500 NOK -> "kr 35,00" (as the locale writes it): money travels in minor units, the screen shows major units. */
function formatMoney(minor, currency) {
  const digits = fractionDigits(currency);
  return new Intl.NumberFormat(config.locale, { style: 'currency', currency }).format(minor / 10 ** digits);
}

/** A machine sale id unique on this machine; the backend uses it to make create idempotent. */
function newMachineSaleId() {
  const random = crypto.getRandomValues(new Uint8Array(6));
  return `${Date.now().toString(36)}-${Array.from(random, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

class ApiError extends Error {
  constructor(status, problem, retryable) {
    super(problem?.title || (status ? `HTTP ${status}` : 'network error'));
    this.status = status;           // 0 for a network error or timeout
    this.code = problem?.code;      // the stable problem+json code, e.g. "validation_failed"
    this.retryable = retryable;
  }
}

let clockOffsetMs = 0; // server time minus our time, from the Date header, so the countdown ignores a wrong local clock

/** One call to the machine API. Throws ApiError; retryable = network trouble, timeout, 408, 429 or 5xx. */
async function api(method, path, body, timeoutMs = REQUEST_TIMEOUT_MS) {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  let response;
  try {
    response = await fetch(config.api + path, {
      method,
      headers: {
        Authorization: `Bearer ${config.apiKey}`,
        Accept: 'application/json',
        ...(body ? { 'Content-Type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
      cache: 'no-store',
      signal: abort.signal,
    });
  } catch {
    throw new ApiError(0, null, true);
  } finally {
    clearTimeout(timer);
  }
  // The Date header has whole seconds: trust our own clock unless it is clearly off.
  const date = Date.parse(response.headers.get('Date') || '');
  if (!Number.isNaN(date)) clockOffsetMs = Math.abs(date - Date.now()) > 2000 ? date - Date.now() : 0;
  const json = await response.json().catch(() => null);
  if (!response.ok) {
    const s = response.status;
    throw new ApiError(s, json, s === 408 || s === 429 || s >= 500);
  }
  return json;
}

/** Calls fn until it succeeds, backing off on retryable errors; gives up after maxAttempts or when the sale is left. */
async function withRetry(session, fn, maxAttempts) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (!error.retryable || attempt + 1 >= maxAttempts || session !== current.session) throw error;
      setStatus('Connection problem, retrying…');
      await sleep(backoff(attempt));
    }
  }
}

// ---- The unfinished sale survives a reload or a crash -------------------------------------------------------
// Saved before the create call: after a restart the machine asks again with the same machineSaleId and gets the same
// sale back (a replay), instead of starting a second one (which the backend refuses: one open sale per machine).
const PENDING_KEY = `kiosk.pending.${config.machineId}`;
function savePending(product, request) {
  try { localStorage.setItem(PENDING_KEY, JSON.stringify({ product, request })); } catch { /* no storage: no resume */ }
}
function clearPending() {
  try { localStorage.removeItem(PENDING_KEY); } catch { /* ignore */ }
}
function loadPending() {
  try { return JSON.parse(localStorage.getItem(PENDING_KEY)); } catch { return null; }
}

// ---- Screen state --------------------------------------------------------------------------------------------
// One purchase at a time. `session` increases with each purchase; a loop of an older purchase sees the change and stops.
const current = { session: 0, sale: null, product: null, vendReported: false, deadline: 0, cancelSent: false };
let countdownTimer = 0;
let backTimer = 0;

function setStatus(text) { $('status').textContent = text; }

function showCatalogue() {
  current.session++;
  current.sale = null;
  clearInterval(countdownTimer);
  clearTimeout(backTimer);
  $('sale-screen').hidden = true;
  $('catalogue-screen').hidden = false;
  for (const button of document.querySelectorAll('.product')) button.disabled = !config.apiKey;
}

function renderCatalogue() {
  $('machine-name').textContent = config.machineId;
  const products = CATALOGUES[config.currency] || [];
  const grid = $('grid');
  grid.replaceChildren();
  for (const product of products) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'product';
    button.dataset.testid = `product-${product.id}`;
    const total = product.unitPrice * (product.quantity || 1);
    button.innerHTML = '<span class="icon"></span><span class="name"></span><span class="price"></span>';
    button.querySelector('.icon').textContent = product.icon;
    button.querySelector('.name').textContent = product.name;
    button.querySelector('.price').textContent = formatMoney(total, config.currency);
    button.addEventListener('click', () => buy(product));
    grid.append(button);
  }
  if (!config.apiKey) {
    document.querySelector('.hint').textContent = 'Not configured: open this page as /kiosk/#machine=ID&key=API_KEY';
  } else if (!products.length) {
    document.querySelector('.hint').textContent = `No catalogue for currency ${config.currency}`;
  }
}

/** Shows the QR once per sale: SVG text and PNG base64 as data URLs (no markup injected), a URL as is. */
function renderQr(qr) {
  const box = $('qr');
  box.replaceChildren();
  delete box.dataset.loaded;
  const img = new Image();
  img.alt = 'Scan to pay';
  img.onload = () => { box.dataset.loaded = 'true'; };
  if (qr?.format === 'svg' && qr.data) img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(qr.data)}`;
  else if (qr?.format === 'png' && qr.data) img.src = `data:image/png;base64,${qr.data}`;
  else if (qr?.url && (!qr.contentType || qr.contentType.startsWith('image/'))) img.src = qr.url;
  else {
    // A TEXT/TARGETURL merchant with format=url hands out the target URL to encode; this kiosk has no QR encoder.
    setStatus('This screen cannot show that QR format; use qr=svg or qr=png');
    return;
  }
  box.dataset.format = qr.format;
  box.append(img);
  box.hidden = false;
}

function tickCountdown() {
  const sale = current.sale;
  if (!sale || sale.state !== 'Created') return;
  const left = Math.max(0, Date.parse(sale.expiresAt) - (Date.now() + clockOffsetMs));
  const seconds = Math.ceil(left / 1000);
  $('countdown').textContent = `Pay within ${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
  $('countdown').dataset.seconds = String(seconds);
  if (left === 0) {
    // The QR can no longer be approved. The backend learns the expiry from Vipps; we keep asking it.
    $('qr').hidden = true;
    $('countdown').textContent = 'Time is up';
    setStatus('Checking the payment…');
    const overdue = Date.now() + clockOffsetMs - Date.parse(sale.expiresAt);
    if (overdue > EXPIRED_GRACE_MS) cancel(); // still Created well after expiry: the machine timed out
  }
}

/** Puts the sale on screen; called with every answer of the API. */
function render(sale) {
  const previous = current.sale;
  // Answers can cross (a cancel's answer and a long-poll's): never step back from an ending.
  if (previous && FINAL.has(previous.state) && !FINAL.has(sale.state)) return;
  current.sale = sale;

  if (!previous || previous.reference !== sale.reference) renderQr(sale.qr);
  const amount = $('amount');
  amount.textContent = formatMoney(sale.amount, sale.currency);
  amount.dataset.minor = String(sale.amount);
  amount.dataset.currency = sale.currency;
  $('status').dataset.state = sale.state;
  $('reference').textContent = `Ref. ${sale.reference}`;
  $('reference').dataset.reference = sale.reference;

  const waiting = sale.state === 'Created';
  $('cancel').hidden = !waiting;
  $('countdown').hidden = !waiting;
  if (!waiting) $('qr').hidden = true;

  switch (sale.state) {
    case 'Created': setStatus('Waiting for payment: scan the code with the Vipps or MobilePay app'); break;
    case 'Authorized': setStatus('Approved: dispensing…'); break;
    case 'Settling': setStatus('Approved: finishing the payment…'); break;
    default: setStatus('');
  }
  if (FINAL.has(sale.state)) {
    clearPending();
    showEnding(sale);
  }
}

function showEnding(sale) {
  let text;
  let css = 'not-charged';
  switch (sale.state) {
    case 'Captured':
    case 'Refunded':
      css = 'ok';
      text = `Thank you! You paid ${formatMoney(sale.capturedAmount, sale.currency)}.`;
      if (sale.capturedAmount < sale.amount) {
        text += ` ${formatMoney(sale.amount - sale.capturedAmount, sale.currency)} not delivered: not charged.`;
      }
      break;
    case 'Aborted': text = 'Not charged: the payment was stopped in the app.'; break;
    case 'Expired': text = 'Not charged: the payment expired.'; break;
    case 'Failed': text = 'Not charged: the payment could not be started.'; break;
    default: text = sale.authorizedAmount > 0 ? 'Not charged: nothing was delivered, the reservation is released.' : 'Not charged: cancelled.';
  }
  showResult(text, css, sale.state);
}

function showResult(text, css, state) {
  const result = $('result');
  result.textContent = text;
  result.className = `result ${css}`;
  result.dataset.state = state;
  result.hidden = false;
  $('cancel').hidden = true;
  $('qr').hidden = true;
  $('countdown').hidden = true;
  $('again').hidden = false;
  clearInterval(countdownTimer);
  clearTimeout(backTimer);
  backTimer = setTimeout(showCatalogue, BACK_TO_START_MS);
}

/** A call failed in a way retrying will not fix (bad key, bad request, unknown sale): say so and stop. */
function outOfOrder(error) {
  setStatus('');
  if (!error.retryable) clearPending(); // refused for good: nothing to resume
  if (error.code === 'open_sale_exists') {
    // Another sale of this machine is still open (e.g. started on another screen); the backend closes it by itself.
    showResult('Busy: an earlier sale is still being finished. Please try again in a minute.', 'not-charged', 'busy');
    return;
  }
  showResult(`Out of order: ${error.message}${error.code ? ` (${error.code})` : ''}`, 'not-charged', 'error');
}

// ---- The purchase --------------------------------------------------------------------------------------------
/** Starts a sale for a product; `resumed` is the saved request of an unfinished sale after a reload. */
async function buy(product, resumed) {
  showCatalogue(); // ends any previous purchase's loops
  const session = current.session;
  Object.assign(current, { product, vendReported: false, cancelSent: false });
  $('catalogue-screen').hidden = true;
  $('sale-screen').hidden = false;
  $('product-name').textContent = product.name;
  $('amount').textContent = formatMoney(product.unitPrice * (product.quantity || 1), config.currency);
  delete $('amount').dataset.minor;
  $('reference').textContent = '';
  delete $('reference').dataset.reference;
  for (const id of ['qr', 'countdown', 'result', 'again']) $(id).hidden = true;
  $('cancel').hidden = true;
  setStatus('Starting payment…');

  const request = resumed || {
    machineSaleId: newMachineSaleId(),
    currency: config.currency,
    lines: [{
      productId: product.id, name: product.name, quantity: product.quantity || 1,
      unitPrice: product.unitPrice, taxRate: product.taxRate,
    }],
    qr: { format: config.qrFormat },
  };
  savePending(product, request);
  let sale;
  try {
    // Safe to retry: the same machineSaleId returns the same sale, never a second payment.
    sale = await withRetry(session, () => api('POST', '/payments', request), 5);
  } catch (error) {
    if (session === current.session) outOfOrder(error);
    return;
  }
  if (session !== current.session) return;
  render(sale);
  countdownTimer = setInterval(tickCountdown, 1000);
  tickCountdown();
  await follow(session);
}

/** Long-polls the sale until it ends; dispenses when it is Authorized. */
async function follow(session) {
  let failures = 0;
  while (session === current.session && !FINAL.has(current.sale.state)) {
    const known = current.sale;
    if (known.state === 'Authorized' && !current.vendReported) {
      await dispense(session);
      continue;
    }
    const started = Date.now();
    try {
      const path = `/payments/${encodeURIComponent(known.reference)}?wait=${POLL_WAIT_SECONDS}&state=${known.state}`;
      const sale = await api('GET', path, undefined, REQUEST_TIMEOUT_MS + POLL_WAIT_SECONDS * 1000);
      failures = 0;
      if (session !== current.session) return;
      render(sale);
      // An answer without news that came back early (a proxy cut the wait short): pause, never spin.
      if (sale.state === known.state && Date.now() - started < 1000) await sleep(1000);
    } catch (error) {
      if (session !== current.session) return;
      if (!error.retryable) { outOfOrder(error); return; }
      setStatus('Connection problem, retrying…');
      await sleep(backoff(failures++));
    }
  }
}

/** Runs the dispenser, then tells the backend what left the machine; the backend captures exactly that. */
async function dispense(session) {
  current.vendReported = true;
  setStatus('Approved: dispensing…');
  await sleep(DISPENSE_MS);
  if (session !== current.session) return;

  const outcome = $('vend-outcome').value;
  const report = { outcome };
  if (outcome === 'partial') {
    // Demo rule: half of each line (rounded down) came out.
    report.deliveredLines = current.sale.lines.map((l) => ({ productId: l.productId, quantity: Math.floor(l.quantity / 2) }));
  }
  const ref = encodeURIComponent(current.sale.reference);
  try {
    // The same report again is answered with the sale, so retrying is safe.
    const sale = await withRetry(session, () => api('POST', `/payments/${ref}/vend`, report), 6);
    if (session === current.session) render(sale);
  } catch (error) {
    // Not reported: the backend's reconciler cancels an Authorized sale without a vend report. Keep following it.
    if (session === current.session) setStatus(`Could not report the vend (${error.message}); checking the payment…`);
  }
}

/** The customer pressed Cancel (or the machine timed out): the backend cancels safely even if they are approving now. */
async function cancel() {
  const session = current.session;
  const sale = current.sale;
  if (!sale || sale.state !== 'Created' || current.cancelSent) return;
  current.cancelSent = true;
  $('cancel').disabled = true;
  setStatus('Cancelling…');
  try {
    const next = await withRetry(session, () => api('POST', `/payments/${encodeURIComponent(sale.reference)}/cancel`), 4);
    if (session === current.session) render(next);
  } catch (error) {
    // E.g. the customer approved in that very moment (409): the long-poll shows what happened.
    if (session === current.session) setStatus(`Could not cancel (${error.message}); checking the payment…`);
    current.cancelSent = false; // let the customer press again
  } finally {
    $('cancel').disabled = false;
  }
}

$('cancel').addEventListener('click', cancel);
$('again').addEventListener('click', showCatalogue);
renderCatalogue();
showCatalogue();
// An unfinished sale from before a reload: pick it up where it was. (After a real crash in Authorized, a machine
// asks its dispenser whether the product came out; this demo dispenses then.)
const pending = config.apiKey && loadPending();
if (pending?.product && pending.request) buy(pending.product, pending.request);
