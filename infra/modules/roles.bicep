// Least-privilege role assignments of the app's managed identity, each at the narrowest scope that works.
// Names are deterministic, guid(scope, principal, role), so a redeploy finds the same assignment instead of
// failing with RoleAssignmentExists.

@description('Required. Object (principal) id of the identity that receives the roles.')
param principalId string

@description('Optional. Type of the principal; ServicePrincipal for a managed identity (avoids replication-delay failures).')
@allowed([
  'ServicePrincipal'
  'User'
  'Group'
])
param principalType string = 'ServicePrincipal'

@description('Required. Storage account with the host data, our tables and queues and the deployment container.')
param storageAccountName string

@description('Required. Key Vault with the Vipps secrets.')
param keyVaultName string

@description('Required. Service Bus namespace of the events topic.')
param serviceBusNamespaceName string

@description('Required. Topic the app publishes to.')
param serviceBusTopicName string

@description('Required. Application Insights component the app sends telemetry to.')
param applicationInsightsName string

// Built-in role definition ids: https://learn.microsoft.com/azure/role-based-access-control/built-in-roles
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  serviceBusDataSender: '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}

resource storage 'Microsoft.Storage/storageAccounts@2025-01-01' existing = {
  name: storageAccountName
}

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
// deployment package both live in blobs; the host creates its own containers, which needs Owner-level data rights.
resource blobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: storage
  name: guid(storage.id, principalId, roles.storageBlobDataOwner)
  properties: {
    principalId: principalId
    principalType: principalType
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
  }
}

// Sales, MachineSales, OpenSales, Machines, UnmatchedWebhooks: read, write, entity-group transactions.
resource tableContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: storage
  name: guid(storage.id, principalId, roles.storageTableDataContributor)
  properties: {
    principalId: principalId
    principalType: principalType
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
  }
}

// sale-commands: enqueue, the queue trigger's receive/delete, and the move to sale-commands-poison.
resource queueContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: storage
  name: guid(storage.id, principalId, roles.storageQueueDataContributor)
  properties: {
    principalId: principalId
    principalType: principalType
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
  }
}

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

@description('Names of the role assignments made, by role (deterministic: guid(scope, principal, role)).')
output assignmentNames object = {
  storageBlobDataOwner: blobOwner.name
  storageTableDataContributor: tableContributor.name
  storageQueueDataContributor: queueContributor.name
  keyVaultSecretsUser: secretsUser.name
  serviceBusDataSender: eventsSender.name
  monitoringMetricsPublisher: telemetryPublisher.name
}
