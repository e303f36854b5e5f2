// The operator console's reports: reconciliation, the summary with its chart and CSV export, and the audit trail.
// A plain script loaded before console.js (both deferred, so they run in order); it uses console.js's helpers (h, api,
// when, money, ...), which exist by the time any screen is rendered.

// ---- reconciliation, summary, audit -----------------------------------------------------------------------------

const ADVICE = {
  failed: 'Open the sale: retry the failed operation if Vipps now allows it.',
  failed_with_money_reserved: 'Vipps refused the release: open the sale and release the money still reserved (or retry).',
  created_past_expiry: 'The customer never approved; the reconciler expires it. Nothing to do unless it stays.',
  authorized_past_vend_deadline: 'The machine never reported the vend: check the machine; the reconciler releases the money.',
};

async function reconciliationScreen() {
  const report = await api('reconciliation');
  return [h('h2', {}, 'Reconciliation'),
    h('p', { class: 'muted' }, `Sales that did not converge, as of ${when(report.generatedAt)} (${report.openSalesExamined} open and ${report.machineSalesExamined} recent sales examined).`),
    h('table', { 'data-testid': 'reconciliation' }, h('thead', {}, h('tr', {}, ['Sale', 'Machine', 'State', 'Reason', 'What to do', 'Authorized', 'Captured', 'Reserved'].map((t) => h('th', {}, t)))),
      h('tbody', {}, report.items.length ? report.items.map((i) => h('tr', { 'data-testid': `recon-${i.reference}` },
        h('td', {}, h('a', { href: `#sale/${encodeURIComponent(i.reference)}` }, i.reference)), h('td', {}, i.machineId), h('td', {}, stateTag(i.state)),
        h('td', {}, i.reason, i.failureCode ? ` (${i.failureCode})` : ''),
        h('td', {}, ADVICE[i.reason] ?? (i.reason.endsWith('_pending_too_long') ? 'An operation at Vipps has not finished: the command queue retries it; open the sale if it stays.' : 'Open the sale.')),
        h('td', { class: 'num' }, i.authorizedAmount), h('td', { class: 'num' }, i.capturedAmount),
        h('td', { class: 'num', 'data-testid': 'reserved' }, i.reservedAmount)))
        : h('tr', {}, h('td', { colspan: 8, class: 'muted' }, 'Everything converged.'))))];
}

async function summaryScreen() {
  const s = await api('summary');
  const figures = (title, rows, testid) => [h('h3', {}, title), h('table', { 'data-testid': testid },
    h('thead', {}, h('tr', {}, ['', 'Merchant', 'Sales', 'Captured', 'Refunded'].map((t, i) => h('th', { class: i >= 2 ? 'num' : undefined }, t)))),
    h('tbody', {}, rows.length ? rows.map((f) => h('tr', {}, h('td', {}, f.key), h('td', {}, f.merchantId), h('td', { class: 'num' }, f.count),
      h('td', { class: 'num' }, money(f.captured, f.currency)), h('td', { class: 'num' }, money(f.refunded, f.currency))))
      : h('tr', {}, h('td', { colspan: 5, class: 'muted' }, 'No sales.'))))];
  // The chart: captured per day over the 30 days, one bar per day, for the most used currency.
  const currency = [...s.last30Days.days.reduce((m, d) => m.set(d.currency, (m.get(d.currency) ?? 0) + d.count), new Map())].sort((a, b) => b[1] - a[1])[0]?.[0];
  const days = [];
  for (let i = 29; i >= 0; i--) days.push(new Date(Date.parse(s.generatedAt) - i * 86_400_000).toISOString().slice(0, 10));
  const byDay = new Map(s.last30Days.days.filter((d) => d.currency === currency).map((d) => [d.day, d]));
  const top = Math.max(1, ...days.map((d) => byDay.get(d)?.captured ?? 0));
  const chart = h('div', { class: 'chart', 'data-testid': 'chart' }, days.map((d) => {
    const bar = h('div', { class: 'bar', title: `${d}: ${byDay.get(d)?.count ?? 0} sales, ${money(byDay.get(d)?.captured ?? 0, currency ?? 'NOK')} captured` });
    bar.style.height = `${Math.round(((byDay.get(d)?.captured ?? 0) / top) * 100)}%`;
    return bar;
  }));
  const exportForm = h('form', { class: 'inline', 'data-testid': 'export' },
    h('label', {}, 'From', h('input', { type: 'datetime-local', name: 'from', required: true, 'data-testid': 'export-from' })),
    h('label', {}, 'To', h('input', { type: 'datetime-local', name: 'to', required: true, 'data-testid': 'export-to' })),
    h('button', { type: 'submit', 'data-testid': 'export-submit' }, 'Download CSV'));
  exportForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = Object.fromEntries(new FormData(exportForm));
    location.href = `${API}exports/sales?${query({ from: toIso(data.from), to: toIso(data.to) })}`;
  });
  return [h('h2', {}, 'Today and the last 30 days'),
    s.truncated ? h('p', { class: 'notice' }, 'More sales than the summary reads: the figures cover the newest.') : null,
    h('h3', {}, `Captured per day, last 30 days${currency ? ` (${currency})` : ''}`), chart,
    figures('Today, per machine', s.today.machines, 'today-machines'), figures('Today, per merchant', s.today.merchants, 'today-merchants'),
    figures('Last 30 days, per machine', s.last30Days.machines, 'month-machines'), figures('Last 30 days, per merchant', s.last30Days.merchants, 'month-merchants'),
    h('h3', {}, 'Export sales for bookkeeping'), exportForm];
}

async function auditScreen(params) {
  const body = h('tbody');
  const more = h('button', { class: 'more', 'data-testid': 'more', hidden: true }, 'More');
  const from = toIso(params.get('from')) ?? new Date(Date.now() - 7 * 86_400_000).toISOString();
  const load = async (token) => {
    const page = await api(`audit?${query({ from, to: toIso(params.get('to')), pageSize: 50, continuationToken: token })}`);
    body.append(...page.entries.map((a) => h('tr', { 'data-testid': 'audit-row' },
      h('td', {}, when(a.at)), h('td', {}, a.action),
      h('td', {}, a.subjectKind === 'sale' && a.subject ? h('a', { href: `#sale/${encodeURIComponent(a.subject)}` }, a.subject) : (a.subject ?? a.subjectKind)),
      h('td', { 'data-testid': 'audit-actor' }, a.actorName, a.actorObjectId ? h('div', { class: 'muted' }, a.actorObjectId) : null),
      h('td', {}, `${a.outcome} (${a.status})`), h('td', { class: 'muted' }, a.requestId))));
    more.hidden = !page.continuationToken;
    more.onclick = () => act(more, () => load(page.continuationToken));
  };
  await load(undefined);
  return [h('h2', {}, 'Audit trail'), h('p', { class: 'muted' }, `Operator actions since ${when(from)}, newest first.`),
    h('table', { 'data-testid': 'audit' }, h('thead', {}, h('tr', {}, ['When', 'Action', 'On', 'Who', 'Outcome', 'Request'].map((t) => h('th', {}, t)))), body), more];
}
