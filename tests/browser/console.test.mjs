// Browser tests of the operator console against the whole local stack (tools/DevStack) with the Functions host's local
// sign-in on (it stands in for App Service Authentication): an operator signs in, provisions a machine, watches a sale
// made through the machine API and approved as the customer, refunds part of it and finds the refund at the
// simulator and in the audit trail under their name; a viewer gets no change buttons and a 403 for a forged change;
// a sale whose capture and automatic release Vipps refuses (simulator faults) is Failed with money reserved until the
// operator releases it.
// Run: node --test tests/browser/  (see docs/operator.md, "The console")
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { eventually, repoRoot, startDevStack } from './devstack.mjs';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SCREENSHOTS = path.join(repoRoot, 'docs', 'screenshots');
const UI_TIMEOUT = 60_000; // generous: webhook, queue and capture all run on a shared 2-core machine

let stack;
let browser;
let origin;
let pageLog = [];
const story = {}; // what the operator's test made, for the viewer's test

before(async () => {
  // DevStack turns on the Functions host's local sign-in (FunctionsHost:LocalSignIn), the stand-in for Easy Auth.
  stack = await startDevStack();
  origin = new URL(stack.info.apiBaseUrl).origin;
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  mkdirSync(SCREENSHOTS, { recursive: true });
}, { timeout: 20 * 60_000 });

after(async () => {
  await browser?.close();
  await stack?.stop();
  stack?.cleanup();
}, { timeout: 60_000 });

async function withStackLog(body) {
  pageLog = [];
  try {
    await body();
  } catch (error) {
    if (pageLog.length) error.message += `\n--- browser ---\n${pageLog.join('\n')}`;
    if (stack.logPath) error.message += `\n--- DevStack log (tail) ---\n${readFileSync(stack.logPath, 'utf8').slice(-6000)}`;
    throw error;
  }
}

/** A fresh browser profile signed in through the host's local sign-in page; returns the console page. */
async function signIn(name, role) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on('pageerror', (error) => pageLog.push(`console error: ${error.message}`));
  page.on('console', (message) => { if (message.type() === 'error') pageLog.push(`console log: ${message.text()}`); });
  await page.goto(`${origin}/api/console/`);
  await page.getByTestId('signed-out').waitFor({ timeout: UI_TIMEOUT });
  await page.getByTestId('sign-in-local').click();
  await page.locator('#name').fill(name);
  await page.locator('#role').selectOption(role);
  await page.locator('button[type=submit]').click();
  await page.getByTestId('who-name').waitFor({ timeout: UI_TIMEOUT });
  assert.equal(await page.getByTestId('who-name').innerText(), name);
  return page;
}

async function machineApi(key, method, pathAndQuery, body) {
  const response = await fetch(`${stack.info.apiBaseUrl}/${pathAndQuery}`, {
    method, headers: { Authorization: `Bearer ${key}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: response.status, json: await response.json().catch(() => null) };
}

async function ledger(reference) {
  const response = await fetch(`${stack.info.simulatorUrl}/_sim/ledger/${encodeURIComponent(reference)}`);
  assert.equal(response.status, 200, `ledger of ${reference}`);
  return response.json();
}

test('an operator provisions a machine, follows its sale, refunds part of it, and the audit trail names them', () => withStackLog(async () => {
  const page = await signIn('Olga Operator', 'Vending.Operator');
  assert.match(await page.getByTestId('who-role').innerText(), /Vending\.Operator/);

  // Provision: the key is shown once, with the kiosk link (the console runs locally).
  const machineId = `console-${Date.now().toString(36)}`;
  await page.getByTestId('provision-id').fill(machineId);
  await page.getByTestId('provision-name').fill('Console test');
  await page.getByTestId('provision-location').fill('Lab');
  await page.getByTestId('provision-merchant').selectOption('vippsno');
  await page.getByTestId('provision-currency').selectOption('NOK');
  await page.getByTestId('provision-submit').click();
  await page.getByTestId('api-key').waitFor({ timeout: UI_TIMEOUT });
  const apiKey = (await page.getByTestId('api-key').innerText()).trim();
  assert.ok(apiKey.startsWith(`${machineId}.`), apiKey);
  assert.match(await page.getByTestId('kiosk-link').getAttribute('href'), new RegExp(`#machine=${machineId}&key=`));
  await page.getByTestId(`machine-${machineId}`).waitFor();
  // Key age comes from the machine's keyRotatedAt: a key issued just now.
  assert.equal(await page.getByTestId(`machine-${machineId}`).getByTestId('key-age').innerText(), 'today');
  await page.screenshot({ path: path.join(SCREENSHOTS, 'console-fleet.png'), fullPage: true });

  // Sell through the machine API; the customer approves at the simulator; the machine delivers.
  const created = await machineApi(apiKey, 'POST', 'payments', {
    machineSaleId: 'console-sale-1', currency: 'NOK',
    lines: [{ productId: 'cola', name: 'Cola 0.5 l', quantity: 1, unitPrice: 3500, taxRate: 2500 }], qr: { format: 'url' },
  });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  const reference = created.json.reference;
  const approved = await fetch(`${stack.info.simulatorUrl}/_sim/payments/${encodeURIComponent(reference)}/approve`, { method: 'POST' });
  assert.equal(approved.status, 200);
  await eventually(async () => (await machineApi(apiKey, 'GET', `payments/${reference}?wait=5&state=Created`)).json?.state === 'Authorized',
    { timeoutMs: UI_TIMEOUT, what: 'Authorized' });
  assert.equal((await machineApi(apiKey, 'POST', `payments/${reference}/vend`, { outcome: 'delivered' })).status, 200);
  await eventually(async () => (await machineApi(apiKey, 'GET', `payments/${reference}`)).json?.state === 'Captured',
    { timeoutMs: UI_TIMEOUT, what: 'Captured' });

  // The sale in the list (all machines, newest first), then its page with the timeline and Vipps' view.
  await page.goto(`${origin}/api/console/#sales`);
  const row = page.getByTestId(`sale-${reference}`);
  await row.waitFor({ timeout: UI_TIMEOUT });
  assert.equal(await row.getByTestId('state').innerText(), 'Captured');
  await row.getByTestId('sale-link').click();
  await page.getByTestId('timeline').waitFor({ timeout: UI_TIMEOUT });
  assert.match(await page.getByTestId('timeline').innerText(), /created/i);
  assert.match(await page.getByTestId('captured').innerText(), /35[.,]00/);
  await eventually(async () => /CAPTURED|AUTHORIZED/.test(await page.getByTestId('vipps-view').innerText()), { what: "Vipps' view" });
  assert.match(await page.getByTestId('vipps-captured').innerText(), /35[.,]00/);

  // Refund 10.00 of 35.00, confirmed in the page before it is sent.
  await page.getByTestId('refund-amount').fill('10');
  await page.getByTestId('refund').click();
  assert.match(await page.getByTestId('refund-confirm').innerText(), /Refund .*10[.,]00/);
  await page.getByTestId('refund-yes').click();
  const money = await eventually(async () => { const l = await ledger(reference); return l.refunded === 1000 && l; },
    { timeoutMs: UI_TIMEOUT, what: 'the refund at the simulator' });
  assert.equal(money.captured, 3500);
  await eventually(async () => {
    await page.reload();
    await page.getByTestId('refunded').waitFor({ timeout: UI_TIMEOUT });
    return /10[.,]00/.test(await page.getByTestId('refunded').innerText());
  }, { timeoutMs: UI_TIMEOUT, what: 'the refund on the sale page' });
  assert.match(await page.getByTestId('timeline').innerText(), /refund by Olga Operator/);
  await page.screenshot({ path: path.join(SCREENSHOTS, 'console-sale.png'), fullPage: true });

  // The audit list: provision and refund, by name.
  await page.goto(`${origin}/api/console/#audit`);
  await page.getByTestId('audit-row').first().waitFor({ timeout: UI_TIMEOUT });
  const audit = await page.getByTestId('audit').innerText();
  assert.match(audit, new RegExp(`refund\\s+${reference}\\s+Olga Operator`));
  assert.match(audit, new RegExp(`provision\\s+${machineId}\\s+Olga Operator`));
  await page.screenshot({ path: path.join(SCREENSHOTS, 'console-audit.png'), fullPage: true });

  await page.goto(`${origin}/api/console/#summary`);
  await page.getByTestId('today-machines').waitFor({ timeout: UI_TIMEOUT });
  assert.match(await page.getByTestId('today-machines').innerText(), new RegExp(`${machineId}\\s+vippsno\\s+1\\s`));
  await page.screenshot({ path: path.join(SCREENSHOTS, 'console-summary.png'), fullPage: true });
  Object.assign(story, { reference, machineId });
  await page.context().close();
}));

test('a viewer sees everything, gets no change buttons, and the API answers 403 to a forged change', () => withStackLog(async () => {
  assert.ok(story.reference, 'runs after the operator test');
  const page = await signIn('Viktor Viewer', 'Vending.Viewer');
  await page.getByTestId(`machine-${story.machineId}`).waitFor({ timeout: UI_TIMEOUT });
  assert.equal(await page.getByTestId('provision').count(), 0);
  assert.equal(await page.getByTestId('rotate').count(), 0);
  assert.equal(await page.getByTestId('disable').count(), 0);

  await page.goto(`${origin}/api/console/#sale/${story.reference}`);
  await page.getByTestId('timeline').waitFor({ timeout: UI_TIMEOUT });
  assert.equal(await page.getByTestId('actions').count(), 0);
  assert.equal(await page.getByTestId('refund').count(), 0);
  await page.screenshot({ path: path.join(SCREENSHOTS, 'console-viewer.png'), fullPage: true });

  // A change sent anyway, from the viewer's own session, with a forged operator principal beside it.
  const forged = Buffer.from(JSON.stringify({ auth_typ: 'aad', claims: [{ typ: 'name', val: 'Mallory' }, { typ: 'roles', val: 'Vending.Operator' }] })).toString('base64');
  const answer = await page.evaluate(async ({ reference, forgedPrincipal }) => {
    const response = await fetch(`/api/operator/sales/${reference}/refunds`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', 'x-ms-client-principal': forgedPrincipal },
      body: JSON.stringify({ amount: 100, requestId: 'viewer-forged-1' }),
    });
    return { status: response.status, type: response.headers.get('content-type'), body: await response.json() };
  }, { reference: story.reference, forgedPrincipal: forged });
  assert.equal(answer.status, 403);
  assert.match(answer.type, /application\/problem\+json/);
  assert.equal(answer.body.code, 'forbidden');
  assert.equal((await ledger(story.reference)).refunded, 1000, 'the forged refund moved money');

  // The refusal is in the audit trail under the viewer's name, not the forged one.
  await page.goto(`${origin}/api/console/#audit`);
  await page.getByTestId('audit-row').first().waitFor({ timeout: UI_TIMEOUT });
  assert.match(await page.getByTestId('audit').innerText(), /refund\s+\S+\s+Viktor Viewer[\s\S]*forbidden \(403\)/);
  assert.doesNotMatch(await page.getByTestId('audit').innerText(), /Mallory/);
  await page.context().close();
}));

test('a sale whose machine never reports: the operator releases the reservation and the simulator shows it released', () => withStackLog(async () => {
  // A machine of its own (one open sale per machine), provisioned by automation with the operator key.
  const machineId = `release-${Date.now().toString(36)}`;
  const provisioned = await fetch(`${stack.info.apiBaseUrl}/operator/machines`, {
    method: 'POST', headers: { 'x-functions-key': stack.info.functionKey, 'Content-Type': 'application/json' },
    body: JSON.stringify({ machineId, name: 'Release test', location: 'Lab', merchantId: 'vippsno', currency: 'NOK' }),
  });
  assert.equal(provisioned.status, 201);
  const { apiKey } = await provisioned.json();
  const created = await machineApi(apiKey, 'POST', 'payments', {
    machineSaleId: 'stuck-1', currency: 'NOK',
    lines: [{ productId: 'water', name: 'Water', quantity: 1, unitPrice: 2200, taxRate: 2500 }], qr: { format: 'url' },
  });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  const reference = created.json.reference;
  assert.equal((await fetch(`${stack.info.simulatorUrl}/_sim/payments/${encodeURIComponent(reference)}/approve`, { method: 'POST' })).status, 200);
  await eventually(async () => (await machineApi(apiKey, 'GET', `payments/${reference}?wait=5&state=Created`)).json?.state === 'Authorized',
    { timeoutMs: UI_TIMEOUT, what: 'Authorized' });

  const page = await signIn('Olga Operator', 'Vending.Operator');
  await page.goto(`${origin}/api/console/#sale/${reference}`);
  await page.getByTestId('release').waitFor({ timeout: UI_TIMEOUT });
  assert.match(await page.getByTestId('release').innerText(), /22[.,]00/);
  assert.equal(await page.getByTestId('retry').count(), 0, 'nothing failed: no retry offered');
  await page.getByTestId('release').click();

  const money = await eventually(async () => { const l = await ledger(reference); return l.cancelled === 2200 && l; },
    { timeoutMs: UI_TIMEOUT, what: 'the release at the simulator' });
  assert.equal(money.captured, 0);
  await eventually(async () => {
    await page.reload();
    await page.getByTestId('timeline').waitFor({ timeout: UI_TIMEOUT });
    return /release by Olga Operator/.test(await page.getByTestId('timeline').innerText())
      && (await page.getByTestId('our-view').innerText()).includes('Cancelled');
  }, { timeoutMs: UI_TIMEOUT, what: 'the released sale in the page' });
  assert.equal(await page.getByTestId('release').count(), 0, 'nothing reserved any more: no release offered');
  await page.context().close();
}));

test('a failed capture story shows retry and release, and release releases the reservation at the simulator', () => withStackLog(async () => {
  const machineId = `failed-${Date.now().toString(36)}`;
  const provisioned = await fetch(`${stack.info.apiBaseUrl}/operator/machines`, {
    method: 'POST', headers: { 'x-functions-key': stack.info.functionKey, 'Content-Type': 'application/json' },
    body: JSON.stringify({ machineId, name: 'Failed capture test', location: 'Lab', merchantId: 'vippsno', currency: 'NOK' }),
  });
  assert.equal(provisioned.status, 201);
  const { apiKey } = await provisioned.json();
  const created = await machineApi(apiKey, 'POST', 'payments', {
    machineSaleId: 'refused-1', currency: 'NOK',
    lines: [{ productId: 'juice', name: 'Juice', quantity: 1, unitPrice: 2900, taxRate: 2500 }], qr: { format: 'url' },
  });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  const reference = created.json.reference;

  // Vipps refuses this payment's capture for good (6200), and its automatic release once (6190): the money stays
  // reserved. Both are 400s, which the processor does not retry under the same key.
  const faults = await fetch(`${stack.info.simulatorUrl}/_sim/faults`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ rules: [
      { endpoint: 'capture', reference, status: 400, errorCode: '6200' },
      { endpoint: 'cancel', reference, status: 400, errorCode: '6190', count: 1 },
    ] }),
  });
  assert.equal(faults.status, 200, await faults.text());

  assert.equal((await fetch(`${stack.info.simulatorUrl}/_sim/payments/${encodeURIComponent(reference)}/approve`, { method: 'POST' })).status, 200);
  await eventually(async () => (await machineApi(apiKey, 'GET', `payments/${reference}?wait=5&state=Created`)).json?.state === 'Authorized',
    { timeoutMs: UI_TIMEOUT, what: 'Authorized' });
  assert.equal((await machineApi(apiKey, 'POST', `payments/${reference}/vend`, { outcome: 'delivered' })).status, 200);
  await eventually(async () => (await machineApi(apiKey, 'GET', `payments/${reference}`)).json?.state === 'Failed',
    { timeoutMs: UI_TIMEOUT, what: 'Failed after the refused capture and release' });
  const refused = await ledger(reference);
  assert.equal(refused.captured, 0);
  assert.equal(refused.cancelled, 0, 'the refused release moved money');

  const page = await signIn('Olga Operator', 'Vending.Operator');

  // Reconciliation lists it with the money still reserved.
  await page.goto(`${origin}/api/console/#reconciliation`);
  const item = page.getByTestId(`recon-${reference}`);
  await item.waitFor({ timeout: UI_TIMEOUT });
  assert.match(await item.innerText(), /failed_with_money_reserved/);
  assert.equal(await item.getByTestId('reserved').innerText(), '2900');

  // The sale: Failed with the refused release's code, 29.00 reserved; the timeline has both refusals; retry (of the
  // refused release) and release are both offered.
  await page.goto(`${origin}/api/console/#sale/${reference}`);
  await page.getByTestId('release').waitFor({ timeout: UI_TIMEOUT });
  assert.match(await page.getByTestId('our-view').innerText(), /Failed vipps_6190/);
  assert.match(await page.getByTestId('release').innerText(), /29[.,]00/);
  assert.equal(await page.getByTestId('retry').count(), 1, 'a Failed sale with money reserved offers a retry');
  const timeline = await page.getByTestId('timeline').innerText();
  assert.match(timeline, /refused permanently: vipps_6200/);
  assert.match(timeline, /refused permanently: vipps_6190/);
  await page.screenshot({ path: path.join(SCREENSHOTS, 'console-failed.png'), fullPage: true });

  // The release fault has cleared (count 1, used by the automatic release): the operator's release goes through.
  await page.getByTestId('release').click();
  const released = await eventually(async () => { const l = await ledger(reference); return l.cancelled === 2900 && l; },
    { timeoutMs: UI_TIMEOUT, what: 'the release at the simulator' });
  assert.equal(released.captured, 0);
  await eventually(async () => {
    await page.reload();
    await page.getByTestId('timeline').waitFor({ timeout: UI_TIMEOUT });
    return /release by Olga Operator/.test(await page.getByTestId('timeline').innerText())
      && await page.getByTestId('release').count() === 0;
  }, { timeoutMs: UI_TIMEOUT, what: 'the released sale in the page' });
  assert.equal(await page.getByTestId('retry').count(), 0, 'nothing reserved or captured: nothing to retry');
  await page.context().close();
}));
