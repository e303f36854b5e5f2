// Least-privilege role assignments, each at the narrowest scope that works: the app's managed identity on the
// tables, queues and topic it uses (not the whole account or namespace), and the deploying principal's operator
// roles. Names are deterministic, guid(scope, principal, role), so a redeploy finds the same assignment instead of
// failing with RoleAssignmentExists.

@description('Required. Object (principal) id of the app\'s identity.')
param principalId string

@description('Optional. Type of the app\'s principal; ServicePrincipal for a managed identity (avoids replication-delay failures).')
@allowed([
  'ServicePrincipal'
  'User'
  'Group'
])
param principalType string = 'ServicePrincipal'

@description('Required. Storage account with the host data, our tables and queues and the deployment container.')
param storageAccountName string

@description('Required. Tables the app reads and writes.')
param tableNames string[]

@description('Required. Queues the app reads and writes (the poison queue included).')
param queueNames string[]

@description('Required. Key Vault with the Vipps secrets.')
param keyVaultName string

@description('Required. Service Bus namespace of the events topic.')
param serviceBusNamespaceName string

@description('Required. Topic the app publishes to.')
param serviceBusTopicName string

@description('Required. Application Insights component the app sends telemetry to.')
param applicationInsightsName string

@description('Optional. Object id of the principal that deploys (azd passes AZURE_PRINCIPAL_ID): gets the operator roles docs/deploy.md tells ops to use. Empty: none.')
param deployerPrincipalId string = ''

@description('Optional. Type of the deploying principal: User for a person running azd, ServicePrincipal for a pipeline.')
@allowed([
  'ServicePrincipal'
  'User'
  'Group'
])
param deployerPrincipalType string = 'User'

// Built-in role definition ids: https://learn.microsoft.com/azure/role-based-access-control/built-in-roles
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  storageTableDataReader: '76199698-9eea-4c19-bc75-cec21354c6b6'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
  serviceBusDataSender: '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}

resource storage 'Microsoft.Storage/storageAccounts@2025-01-01' existing = {
  name: storageAccountName

  resource tableService 'tableServices' existing = {
    name: 'default'
  }

  resource queueService 'queueServices' existing = {
    name: 'default'
  }
}

resource tables 'Microsoft.Storage/storageAccounts/tableServices/tables@2025-01-01' existing = [
  for tableName in tableNames: {
    parent: storage::tableService
    name: tableName
  }
]

resource queues 'Microsoft.Storage/storageAccounts/queueServices/queues@2025-01-01' existing = [
  for queueName in queueNames: {
    parent: storage::queueService
    name: queueName
  }
]

resource vault 'Microsoft.KeyVault/vaults@2025-05-01' existing = {
  name: keyVaultName
}

resource serviceBus 'Microsoft.ServiceBus/namespaces@2026-01-01' existing = {
  name: serviceBusNamespaceName

  resource topic 'topics' existing = {
    name: serviceBusTopicName
  }
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// The Functions host (AzureWebJobsStorage: keys, timer and singleton leases) and the Flex Consumption
// deployment package both live in blobs; the host creates its own containers, which needs Owner-level data rights
// on the account (the containers it creates are not known before it runs).
resource blobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: storage
  name: guid(storage.id, principalId, roles.storageBlobDataOwner)
  properties: {
    principalId: principalId
    principalType: principalType
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
  }
}

// Each of our tables (Sales, OpenSales, Machines, UnmatchedWebhooks, WebhookRegistrations, OperatorAudit, SalesByDay): read,
// write, entity-group transactions; no other table of the account.
resource tableContributors 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (tableName, i) in tableNames: {
    scope: tables[i]
    name: guid(tables[i].id, principalId, roles.storageTableDataContributor)
    properties: {
      principalId: principalId
      principalType: principalType
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
    }
  }
]

// sale-commands and sale-commands-poison: enqueue, the queue trigger's receive/delete, the move to the poison queue.
resource queueContributors 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (queueName, i) in queueNames: {
    scope: queues[i]
    name: guid(queues[i].id, principalId, roles.storageQueueDataContributor)
    properties: {
      principalId: principalId
      principalType: principalType
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
    }
  }
]

// Key Vault references: read secret values, nothing else (no list of keys, no writes).
resource secretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: vault
  name: guid(vault.id, principalId, roles.keyVaultSecretsUser)
  properties: {
    principalId: principalId
    principalType: principalType
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
  }
}

// Send only, and only to the events topic (not the whole namespace, never receive or manage).
resource eventsSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: serviceBus::topic
  name: guid(serviceBus::topic.id, principalId, roles.serviceBusDataSender)
  properties: {
    principalId: principalId
    principalType: principalType
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataSender)
  }
}

// Application Insights with local auth disabled accepts telemetry only from principals with this role.
resource telemetryPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: applicationInsights
  name: guid(applicationInsights.id, principalId, roles.monitoringMetricsPublisher)
  properties: {
    principalId: principalId
    principalType: principalType
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
  }
}

// The people who operate it (docs/deploy.md): set and rotate the Vipps secrets in the vault, read the tables for
// support. Only when azd (or the caller) names the deploying principal.
resource deployerSecretsOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deployerPrincipalId)) {
  scope: vault
  name: guid(vault.id, deployerPrincipalId, roles.keyVaultSecretsOfficer)
  properties: {
    principalId: deployerPrincipalId
    principalType: deployerPrincipalType
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsOfficer)
  }
}

resource deployerTableReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deployerPrincipalId)) {
  scope: storage
  name: guid(storage.id, deployerPrincipalId, roles.storageTableDataReader)
  properties: {
    principalId: deployerPrincipalId
    principalType: deployerPrincipalType
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataReader)
  }
}

@description('Names of the app identity\'s role assignments, by role (deterministic: guid(scope, principal, role)).')
output assignmentNames object = {
  storageBlobDataOwner: blobOwner.name
  keyVaultSecretsUser: secretsUser.name
  serviceBusDataSender: eventsSender.name
  monitoringMetricsPublisher: telemetryPublisher.name
}
@description('Names of the app identity\'s Storage Table Data Contributor assignments, one per table.')
output tableAssignmentNames string[] = [for (tableName, i) in tableNames: tableContributors[i].name]
@description('Names of the app identity\'s Storage Queue Data Contributor assignments, one per queue.')
output queueAssignmentNames string[] = [for (queueName, i) in queueNames: queueContributors[i].name]
