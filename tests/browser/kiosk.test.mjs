// Browser tests of the reference kiosk against the whole local stack (tools/DevStack): a real browser buys a
// product, the QR is read from the screen as pixels, a second page plays the customer on the simulator's phone
// page, and the simulator's ledger proves what money moved. Run: node --test tests/browser/  (see docs/kiosk.md)
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import { eventually, repoRoot, startDevStack } from './devstack.mjs';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SCREENSHOTS = path.join(repoRoot, 'docs', 'screenshots');
const UI_TIMEOUT = 60_000; // generous: webhook, queue and capture all run on a shared 2-core machine

let stack;
let browser;
let pageLog = []; // the current test's browser console errors and failed requests, shown when it fails
let lastReference; // the current test's sale, cancelled if the test fails (one open sale per machine)
let kioskPage; // the current test's kiosk, described when the test fails

before(async () => {
  stack = await startDevStack();
  // launch() gives the browser a fresh temporary --user-data-dir of its own (and removes it on close).
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}, { timeout: 20 * 60_000 });

after(async () => {
  await browser?.close();
  await stack?.stop();
  stack?.cleanup();
}, { timeout: 60_000 });

/** Runs a test body; on failure adds the tail of the stack's log, which usually says why. */
async function withStackLog(body) {
  pageLog = [];
  lastReference = undefined;
  kioskPage = undefined;
  try {
    await body();
  } catch (error) {
    if (kioskPage && !kioskPage.isClosed()) {
      const screen = await kioskPage.evaluate(() => ['status', 'result', 'reference', 'countdown']
        .map((id) => `${id}: ${document.getElementById(id)?.textContent}`).join(' | ')).catch((e) => String(e));
      error.message += `\n--- kiosk screen ---\n${screen}`;
      await kioskPage.context().close().catch(() => {});
    }
    // Leave no open sale behind: the backend allows one per machine, so it would fail the next tests too.
    if (lastReference) {
      await fetch(`${stack.info.apiBaseUrl}/payments/${lastReference}/cancel`, {
        method: 'POST', headers: { Authorization: `Bearer ${stack.info.apiKey}` },
      }).catch(() => {});
    }
    if (pageLog.length) error.message += `\n--- browser ---\n${pageLog.join('\n')}`;
    if (stack.logPath) error.message += `\n--- DevStack log (tail) ---\n${readFileSync(stack.logPath, 'utf8').slice(-6000)}`;
    throw error;
  }
}

function kioskUrl() {
  const { kioskUrl: url, machineId, apiKey } = stack.info;
  return url.includes('#') ? url : `${url}#machine=${encodeURIComponent(machineId)}&key=${encodeURIComponent(apiKey)}`;
}

async function openKiosk(outcome = 'delivered', qrFormat = 'svg') {
  const context = await browser.newContext({ viewport: { width: 900, height: 960 } });
  const page = await context.newPage();
  kioskPage = page;
  page.on('pageerror', (error) => pageLog.push(`kiosk error: ${error.message}`));
  page.on('console', (message) => { if (message.type() === 'error') pageLog.push(`kiosk console: ${message.text()}`); });
  page.on('response', (response) => { if (response.status() >= 400) pageLog.push(`kiosk ${response.status()} ${response.url()}`); });
  page.on('requestfailed', (request) => pageLog.push(`kiosk request failed: ${request.url()} ${request.failure()?.errorText}`));
  await page.goto(`${kioskUrl()}&qr=${qrFormat}`);
  await page.getByTestId('vend-outcome').selectOption(outcome);
  return page;
}

/** Taps a product and waits for the QR; returns the sale reference and the URL the QR encodes, read from pixels. */
async function buy(page, productId) {
  await page.getByTestId(`product-${productId}`).click();
  const qr = page.locator('[data-testid="qr"][data-loaded="true"]');
  await qr.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
  const reference = await page.getByTestId('reference').getAttribute('data-reference');
  assert.match(reference, /^[A-Za-z0-9-]{8,64}$/);
  lastReference = reference;

  const png = PNG.sync.read(await qr.screenshot());
  const code = jsQR(new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.length), png.width, png.height);
  assert.ok(code, 'the QR on the kiosk screen does not decode');
  return { reference, qrText: code.data };
}

/** The customer scans: the decoded URL must be the simulator's phone page for this payment. */
async function openCustomerPage(qrText) {
  const url = new URL(qrText);
  assert.equal(url.origin, new URL(stack.info.simulatorUrl).origin, `QR leads elsewhere: ${qrText}`);
  assert.match(url.pathname, /^\/pay\/[^/]+$/);
  const context = await browser.newContext({ viewport: { width: 390, height: 700 } });
  const page = await context.newPage();
  await page.goto(qrText);
  return page;
}

async function ledger(reference) {
  const response = await fetch(`${stack.info.simulatorUrl}/_sim/ledger/${encodeURIComponent(reference)}`);
  assert.equal(response.status, 200, `ledger of ${reference}`);
  return response.json();
}

/** Waits for the kiosk's ending and returns { state, text }. */
async function kioskResult(page) {
  const result = page.getByTestId('result');
  await result.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
  return { state: await result.getAttribute('data-state'), text: await result.innerText() };
}

test('approve: the kiosk says thank you and exactly the price is captured', () => withStackLog(async () => {
  const kiosk = await openKiosk('delivered');
  const { reference, qrText } = await buy(kiosk, 'cola');
  assert.equal(await kiosk.getByTestId('qr').getAttribute('data-format'), 'svg');

  // While the QR shows: the price, a running countdown, "waiting for payment".
  assert.equal(await kiosk.getByTestId('amount').getAttribute('data-minor'), '3500');
  assert.match(await kiosk.getByTestId('amount').innerText(), /35[.,]00/);
  assert.match(await kiosk.getByTestId('countdown').innerText(), /\d+:\d\d/);
  assert.match(await kiosk.getByTestId('status').innerText(), /waiting for payment/i);
  mkdirSync(SCREENSHOTS, { recursive: true });
  await kiosk.screenshot({ path: path.join(SCREENSHOTS, 'kiosk.png') });

  const customer = await openCustomerPage(qrText);
  assert.match(await customer.getByTestId('amount').innerText(), /35\.00 NOK/);
  await customer.screenshot({ path: path.join(SCREENSHOTS, 'customer.png') });
  await customer.getByTestId('approve').click();
  await customer.getByText('Payment approved').waitFor({ timeout: UI_TIMEOUT });

  const { state, text } = await kioskResult(kiosk);
  assert.equal(state, 'Captured', text);
  assert.match(text, /thank you/i);
  assert.match(text, /35[.,]00/);

  const money = await ledger(reference);
  assert.equal(money.amount.value, 3500);
  assert.equal(money.authorized, 3500);
  assert.equal(money.captured, 3500);
  assert.equal(money.cancelled, 0);
  await kiosk.context().close();
  await customer.context().close();
}));

test('the customer aborts: the kiosk says not charged and nothing is captured', () => withStackLog(async () => {
  const kiosk = await openKiosk('delivered', 'png'); // this one shows the QR as a PNG
  const { reference, qrText } = await buy(kiosk, 'water');
  assert.equal(await kiosk.getByTestId('qr').getAttribute('data-format'), 'png');

  const customer = await openCustomerPage(qrText);
  await customer.getByTestId('abort').click();
  await customer.getByText('Payment aborted').waitFor({ timeout: UI_TIMEOUT });

  const { state, text } = await kioskResult(kiosk);
  assert.equal(state, 'Aborted', text);
  assert.match(text, /not charged/i);

  const money = await ledger(reference);
  assert.equal(money.state, 'ABORTED');
  assert.equal(money.authorized, 0);
  assert.equal(money.captured, 0);
  await kiosk.context().close();
  await customer.context().close();
}));

test('the vend fails: the reservation is released, nothing captured', () => withStackLog(async () => {
  const kiosk = await openKiosk('failed');
  const { reference, qrText } = await buy(kiosk, 'coffee');

  const customer = await openCustomerPage(qrText);
  await customer.getByTestId('approve').click();
  await customer.getByText('Payment approved').waitFor({ timeout: UI_TIMEOUT });

  const { state, text } = await kioskResult(kiosk);
  assert.equal(state, 'Cancelled', text);
  assert.match(text, /not charged/i);

  const money = await ledger(reference);
  assert.equal(money.authorized, 3900);
  assert.equal(money.cancelled, 3900);
  assert.equal(money.captured, 0);
  await kiosk.context().close();
  await customer.context().close();
}));

test('a partial vend: only what was delivered is captured, the rest released', () => withStackLog(async () => {
  const kiosk = await openKiosk('partial'); // the kiosk's demo rule: half of each line comes out
  const { reference, qrText } = await buy(kiosk, 'bar-2pack'); // 2 x 19.00

  const customer = await openCustomerPage(qrText);
  await customer.getByTestId('approve').click();
  await customer.getByText('Payment approved').waitFor({ timeout: UI_TIMEOUT });

  const { state, text } = await kioskResult(kiosk);
  assert.equal(state, 'Captured', text);
  assert.match(text, /thank you/i);
  assert.match(text, /19[.,]00/);

  const money = await ledger(reference);
  assert.equal(money.authorized, 3800);
  assert.equal(money.captured, 1900);
  assert.equal(money.cancelled, 1900);
  await kiosk.context().close();
  await customer.context().close();
}));

test('the customer cancels on the kiosk: not charged, and the QR can no longer be approved', () => withStackLog(async () => {
  const kiosk = await openKiosk('delivered');
  const { reference, qrText } = await buy(kiosk, 'apple');

  await kiosk.getByTestId('cancel').click();
  const { state, text } = await kioskResult(kiosk);
  assert.equal(state, 'Cancelled', text);
  assert.match(text, /not charged/i);

  const customer = await openCustomerPage(qrText);
  assert.equal(await customer.getByTestId('approve').count(), 0, 'a cancelled payment still offers approve');
  const money = await ledger(reference);
  assert.notEqual(money.state, 'CREATED');
  assert.equal(money.authorized, 0);
  assert.equal(money.captured, 0);
  await kiosk.context().close();
  await customer.context().close();
}));

test('a reload in the middle of a sale picks up the same sale', () => withStackLog(async () => {
  const kiosk = await openKiosk('delivered');
  const first = await buy(kiosk, 'cola');

  await kiosk.reload();
  const qr = kiosk.locator('[data-testid="qr"][data-loaded="true"]');
  await qr.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
  assert.equal(await kiosk.getByTestId('reference').getAttribute('data-reference'), first.reference);

  await kiosk.getByTestId('cancel').click();
  const { state, text } = await kioskResult(kiosk);
  assert.equal(state, 'Cancelled', text);
  await kiosk.context().close();
}));

// Last: it moves the simulator's clock forward for good.
test('nobody pays: the payment expires and the kiosk says not charged', () => withStackLog(async () => {
  const kiosk = await openKiosk('delivered');
  const { reference } = await buy(kiosk, 'chips');

  // Move the simulator's clock just past this payment's expiry (by its own clock, not ours).
  const { now } = await (await fetch(`${stack.info.simulatorUrl}/_sim/clock`)).json();
  const { expiresAt } = await ledger(reference);
  const seconds = Math.ceil((Date.parse(expiresAt) - Date.parse(now)) / 1000) + 5;
  const moved = await fetch(`${stack.info.simulatorUrl}/_sim/clock/advance?seconds=${seconds}`, { method: 'POST' });
  assert.equal(moved.status, 200);
  await eventually(async () => (await ledger(reference)).state === 'EXPIRED', { what: 'simulator expired the payment' });

  const { state, text } = await kioskResult(kiosk);
  assert.equal(state, 'Expired', text);
  assert.match(text, /not charged/i);
  const money = await ledger(reference);
  assert.equal(money.captured, 0);
  await kiosk.context().close();
}));
