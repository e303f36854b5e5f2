// The storage account: the Functions host (AzureWebJobsStorage), our tables and the command queue
// (VendingStorage), and the Flex Consumption deployment container. Keys are disabled: every client
// authenticates with the managed identity.

@description('Required. Storage account name (3-24 lowercase letters and digits).')
@minLength(3)
@maxLength(24)
param name string

@description('Required. Azure region of the account.')
param location string

@description('Optional. Tags applied to the account.')
param tags object = {}

@description('Required. Tables the app reads and writes (names from docs/ARCHITECTURE.md).')
param tableNames string[]

@description('Required. Queues the app reads and writes, including poison queues.')
param queueNames string[]

@description('Required. Blob container the Flex Consumption plan deploys the app package from.')
param deploymentContainerName string

@description('Optional. True: no public network access; the app reaches blob, table and queue through private endpoints. False: the public endpoint stays open, because a Function App without VNet integration calls from shared outbound addresses no firewall rule can name; Entra-only authentication still applies.')
param networkIsolation bool = false

resource account 'Microsoft.Storage/storageAccounts@2025-01-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: networkIsolation ? 'Disabled' : 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: networkIsolation ? 'Deny' : 'Allow'
    }
  }

  resource blobService 'blobServices' = {
    name: 'default'

    resource deploymentContainer 'containers' = {
      name: deploymentContainerName
      properties: {
        publicAccess: 'None'
      }
    }
  }

  resource tableService 'tableServices' = {
    name: 'default'

    resource tables 'tables' = [
      for tableName in tableNames: {
        name: tableName
      }
    ]
  }

  resource queueService 'queueServices' = {
    name: 'default'

    resource queues 'queues' = [
      for queueName in queueNames: {
        name: queueName
      }
    ]
  }
}

@description('Resource id of the storage account.')
output id string = account.id
@description('Name of the storage account.')
output name string = account.name
@description('Blob endpoint, e.g. https://{name}.blob.core.windows.net/.')
output blobEndpoint string = account.properties.primaryEndpoints.blob
@description('Table endpoint, e.g. https://{name}.table.core.windows.net/.')
output tableEndpoint string = account.properties.primaryEndpoints.table
@description('Queue endpoint, e.g. https://{name}.queue.core.windows.net/.')
output queueEndpoint string = account.properties.primaryEndpoints.queue
@description('Name of the deployment container.')
output deploymentContainerName string = account::blobService::deploymentContainer.name
