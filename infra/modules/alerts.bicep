// What ops are told and what they look at (docs/operations.md): log search alerts on the app's OpenTelemetry
// metrics and logs in Application Insights (customMetrics, traces), one action group that e-mails, and a workbook
// with the fleet's sales and the health figures.

@description('Required. Name prefix of the alert rules, the action group and the workbook.')
param namePrefix string

@description('Required. Azure region of the alert rules and the workbook.')
param location string

@description('Optional. Tags applied to every resource.')
param tags object = {}

@description('Required. Resource id of the Application Insights component the app sends telemetry to.')
param applicationInsightsId string

@description('Optional. E-mail address the alerts go to; empty: the action group has no receiver (alerts still show in the portal).')
param alertEmail string = ''

@description('Optional. Verified webhooks may stay away this long while sales are settled (vend reports) before the webhook alert fires (ISO 8601).')
param webhookSilenceWindow string = 'PT2H'

// Every rule: a KQL query on Application Insights, a threshold and the windows. The metric names and dimensions
// are those of the Vending meter (functions/Vending.Core/Observability); tests/Infra.Tests checks them.
var rules = [
  {
    name: 'poison-commands'
    severity: 1
    description: 'A capture, release, cancel or refund kept failing and landed in sale-commands-poison: money may be stuck. docs/operations.md#poison-commands'
    query: 'customMetrics | where name == "vending.commands.poisoned" | summarize poisoned = sum(valueSum)'
    measure: 'poisoned'
    operator: 'GreaterThan'
    threshold: 0
    window: 'PT5M'
    frequency: 'PT5M'
  }
  {
    name: 'sales-failed'
    severity: 1
    description: 'Sales ended Failed: Vipps refused creating the payment or a command permanently; an operator must look. docs/operations.md#sales-failed'
    query: 'customMetrics | where name == "vending.sales.final" | where tostring(customDimensions["vending.sale.outcome"]) == "Failed" | summarize failed = sum(valueSum)'
    measure: 'failed'
    operator: 'GreaterThan'
    threshold: 0
    window: 'PT15M'
    frequency: 'PT5M'
  }
  {
    name: 'money-reserved-past-deadline'
    severity: 1
    description: 'Every reconciler pass for 15 minutes found authorized sales past their vend deadline: reserved money is not being released. docs/operations.md#money-reserved-past-deadline'
    query: 'customMetrics | where name == "vending.sales.reserved_overdue" | summarize overdue = min(valueMin)'
    measure: 'overdue'
    operator: 'GreaterThan'
    threshold: 0
    window: 'PT15M'
    frequency: 'PT5M'
  }
  {
    name: 'webhook-refusals'
    severity: 2
    description: 'More than 10 webhook calls refused in 15 minutes: a wrong or rotated webhook secret, or someone probing the endpoint. docs/operations.md#webhook-refusals'
    query: 'customMetrics | where name == "vending.webhooks.received" | where tostring(customDimensions["vending.webhook.result"]) == "refused" | summarize refused = sum(valueSum)'
    measure: 'refused'
    operator: 'GreaterThan'
    threshold: 10
    window: 'PT15M'
    frequency: 'PT5M'
  }
  {
    name: 'vipps-errors'
    severity: 2
    description: 'More than 5 Vipps calls in 15 minutes answered 5xx, 401 (our key refused) or nothing at all. docs/operations.md#vipps-errors'
    query: 'customMetrics | where name == "vending.vipps.calls" | extend status = toint(customDimensions["http.response.status_code"]) | where status >= 500 or status == 401 or status == 0 | summarize errors = sum(valueSum)'
    measure: 'errors'
    operator: 'GreaterThan'
    threshold: 5
    window: 'PT15M'
    frequency: 'PT5M'
  }
  {
    name: 'reconciler-lag'
    severity: 2
    description: 'A reconciler pass found a sale due for more than 5 minutes: passes are failing, too slow or not running. docs/operations.md#reconciler-lag'
    query: 'customMetrics | where name == "vending.reconciler.lag" | summarize lagSeconds = max(valueMax)'
    measure: 'lagSeconds'
    operator: 'GreaterThan'
    threshold: 300
    window: 'PT15M'
    frequency: 'PT5M'
  }
  {
    name: 'webhooks-silent'
    severity: 2
    description: 'Machines reported vends (so customers approved payments) but no verified webhook arrived: Vipps is not calling us and the reconciler authorizes by polling, slower. docs/operations.md#webhooks-silent'
    query: 'customMetrics | where name in ("vending.sale.vend_report.delay", "vending.webhooks.received") | summarize vends = sumif(valueCount, name == "vending.sale.vend_report.delay"), verified = sumif(valueSum, name == "vending.webhooks.received" and tostring(customDimensions["vending.webhook.result"]) == "verified") | where vends > 0 and verified == 0 | project silent = vends'
    measure: 'silent'
    operator: 'GreaterThan'
    threshold: 0
    window: webhookSilenceWindow
    frequency: 'PT15M'
  }
  {
    name: 'webhook-registration-repaired'
    severity: 2
    description: 'The webhook watchdog found a merchant\'s registration gone (Vipps deletes one unresponsive for two weeks) and registered it again. docs/operations.md#webhook-registration-repaired'
    query: 'traces | where severityLevel >= 2 | where message has "Webhook watchdog: merchant" | summarize repaired = count()'
    measure: 'repaired'
    operator: 'GreaterThan'
    threshold: 0
    window: 'PT1H'
    frequency: 'PT15M'
  }
]

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: '${namePrefix}-ops'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'vending-ops'
    enabled: true
    emailReceivers: empty(alertEmail)
      ? []
      : [
          {
            name: 'ops'
            emailAddress: alertEmail
            useCommonAlertSchema: true
          }
        ]
  }
}

resource alerts 'Microsoft.Insights/scheduledQueryRules@2026-03-01' = [
  for rule in rules: {
    name: '${namePrefix}-${rule.name}'
    location: location
    tags: tags
    properties: {
      displayName: 'Vending: ${rule.name}'
      description: rule.description
      severity: rule.severity
      enabled: true
      scopes: [
        applicationInsightsId
      ]
      evaluationFrequency: rule.frequency
      windowSize: rule.window
      criteria: {
        allOf: [
          {
            query: rule.query
            timeAggregation: 'Total'
            metricMeasureColumn: rule.measure
            operator: rule.operator
            threshold: rule.threshold
            failingPeriods: {
              numberOfEvaluationPeriods: 1
              minFailingPeriodsToAlert: 1
            }
          }
        ]
      }
      autoMitigate: true
      actions: {
        actionGroups: [
          actionGroup.id
        ]
      }
    }
  }
]

// The workbook: one page, each tile a query on the same metrics the alerts use.
var workbookTiles = [
  {
    title: 'Sales created per hour, by merchant'
    query: 'customMetrics | where name == "vending.sales.created" | summarize sales = sum(valueSum) by bin(timestamp, 1h), merchant = tostring(customDimensions["vending.merchant.id"]) | render timechart'
  }
  {
    title: 'Sales ended, by outcome'
    query: 'customMetrics | where name == "vending.sales.final" | summarize sales = sum(valueSum) by outcome = tostring(customDimensions["vending.sale.outcome"]) | render piechart'
  }
  {
    title: 'Seconds from approval to vend report, and from vend report to capture (average per hour)'
    query: 'customMetrics | where name in ("vending.sale.vend_report.delay", "vending.sale.capture.delay") | summarize seconds = sum(valueSum) / sum(valueCount) by bin(timestamp, 1h), name | render timechart'
  }
  {
    title: 'Vipps calls by operation and status'
    query: 'customMetrics | where name == "vending.vipps.calls" | summarize calls = sum(valueSum) by operation = tostring(customDimensions["vipps.operation"]), status = tostring(customDimensions["http.response.status_code"]), errorCode = tostring(customDimensions["vipps.error_code"]) | order by calls desc'
  }
  {
    title: 'Webhooks verified and refused'
    query: 'customMetrics | where name == "vending.webhooks.received" | summarize webhooks = sum(valueSum) by bin(timestamp, 1h), result = tostring(customDimensions["vending.webhook.result"]), reason = tostring(customDimensions["vending.webhook.reason"]) | render timechart'
  }
  {
    title: 'Reconciler: due sales, lag (s), reserved past deadline'
    query: 'customMetrics | where name in ("vending.reconciler.due", "vending.reconciler.lag", "vending.sales.reserved_overdue") | summarize value = max(valueMax) by bin(timestamp, 5m), name | render timechart'
  }
  {
    title: 'Command retries and poison'
    query: 'customMetrics | where name in ("vending.commands.retried", "vending.commands.poisoned") | summarize commands = sum(valueSum) by bin(timestamp, 1h), name, kind = tostring(customDimensions["vending.command.kind"]) | render timechart'
  }
]

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: guid(resourceGroup().id, namePrefix, 'vending-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: 'Vending: sales and health'
    category: 'workbook'
    sourceId: applicationInsightsId
    serializedData: string({
      version: 'Notebook/1.0'
      items: map(workbookTiles, tile => {
        type: 3
        content: {
          version: 'KqlItem/1.0'
          title: tile.title
          query: tile.query
          queryType: 0
          resourceType: 'microsoft.insights/components'
          timeContext: {
            durationMs: 86400000
          }
        }
      })
      isLocked: false
    })
  }
}

@description('Resource id of the action group.')
output actionGroupId string = actionGroup.id
@description('Names of the alert rules.')
output alertNames string[] = [for (rule, i) in rules: alerts[i].name]
@description('Resource id of the workbook.')
output workbookId string = workbook.id
