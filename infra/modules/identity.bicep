// The one user-assigned managed identity the Function App uses for everything: storage (host and our
// tables/queues), the deployment container, Key Vault references, Service Bus and Application Insights.

@description('Required. Name of the user-assigned managed identity.')
param name string

@description('Required. Azure region of the identity.')
param location string

@description('Optional. Tags applied to the identity.')
param tags object = {}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: name
  location: location
  tags: tags
}

@description('Resource id of the identity (keyVaultReferenceIdentity, deployment storage authentication).')
output id string = identity.id
@description('Name of the identity.')
output name string = identity.name
@description('Object (principal) id of the identity, for role assignments.')
output principalId string = identity.properties.principalId
@description('Client id of the identity, for the __clientId settings.')
output clientId string = identity.properties.clientId
