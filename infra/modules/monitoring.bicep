// Log Analytics + workspace-based Application Insights. Local (instrumentation key) authentication is
// disabled: telemetry is accepted only with an Entra token, which the app gets from its managed identity
// (APPLICATIONINSIGHTS_AUTHENTICATION_STRING) and the Monitoring Metrics Publisher role.

@description('Required. Name of the Log Analytics workspace.')
param logAnalyticsName string

@description('Required. Name of the Application Insights component.')
param applicationInsightsName string

@description('Required. Azure region of both resources.')
param location string

@description('Optional. Tags applied to both resources.')
param tags object = {}

@description('Optional. Days the workspace keeps logs (30 is the free retention).')
@minValue(30)
@maxValue(730)
param retentionInDays int = 30

resource workspace 'Microsoft.OperationalInsights/workspaces@2025-02-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    retentionInDays: retentionInDays
    sku: {
      name: 'PerGB2018'
    }
    features: {
      disableLocalAuth: true
    }
  }
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: applicationInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    DisableLocalAuth: true
    IngestionMode: 'LogAnalytics'
  }
}

@description('Name of the Application Insights component.')
output applicationInsightsName string = applicationInsights.name
@description('Resource id of the Application Insights component (scope of the alerts and the workbook).')
output applicationInsightsId string = applicationInsights.id
@description('Connection string of Application Insights. Not a secret: with local auth disabled it only says where to send telemetry; sending needs an Entra token.')
output applicationInsightsConnectionString string = applicationInsights.properties.ConnectionString
@description('Resource id of the Log Analytics workspace.')
output logAnalyticsId string = workspace.id
