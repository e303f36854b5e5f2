// Key Vault in RBAC mode holding the Vipps credentials and webhook secrets. The app reads them through
// Key Vault references resolved with its user-assigned identity (Key Vault Secrets User).

import { vippsMerchantType, vippsMerchantSecretsType, merchantSecretName } from 'types.bicep'

@description('Required. Key Vault name (3-24 characters, globally unique).')
@minLength(3)
@maxLength(24)
param name string

@description('Required. Azure region of the vault.')
param location string

@description('Optional. Tags applied to the vault.')
param tags object = {}

@description('Required. The merchants whose secrets are stored.')
param merchants vippsMerchantType[]

@description('Required. Secrets per merchant id. A merchant without secrets here fails the deployment.')
@secure()
param merchantSecrets { *: vippsMerchantSecretsType }

@description('Optional. Days a deleted vault or secret can be recovered.')
@minValue(7)
@maxValue(90)
param softDeleteRetentionInDays int = 90

resource vault 'Microsoft.KeyVault/vaults@2025-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionInDays
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

resource clientSecrets 'Microsoft.KeyVault/vaults/secrets@2025-05-01' = [
  for merchant in merchants: {
    parent: vault
    name: merchantSecretName(merchant.id, 'client-secret')
    properties: {
      value: merchantSecrets[merchant.id].clientSecret
      contentType: 'Vipps client_secret of merchant ${merchant.id}'
    }
  }
]

resource subscriptionKeys 'Microsoft.KeyVault/vaults/secrets@2025-05-01' = [
  for merchant in merchants: {
    parent: vault
    name: merchantSecretName(merchant.id, 'subscription-key')
    properties: {
      value: merchantSecrets[merchant.id].subscriptionKey
      contentType: 'Vipps Ocp-Apim-Subscription-Key of merchant ${merchant.id}'
    }
  }
]

// Only merchants whose webhook is already registered: the secret comes from that registration.
resource webhookSecrets 'Microsoft.KeyVault/vaults/secrets@2025-05-01' = [
  for merchant in merchants: if (!empty(merchantSecrets[merchant.id].?webhookSecret ?? '')) {
    parent: vault
    name: merchantSecretName(merchant.id, 'webhook-secret')
    properties: {
      value: merchantSecrets[merchant.id].webhookSecret!
      contentType: 'Vipps webhook secret of merchant ${merchant.id}'
    }
  }
]

@description('Name of the vault.')
output name string = vault.name
@description('Vault URI, e.g. https://{name}.vault.azure.net/ (ends with a slash).')
output vaultUri string = vault.properties.vaultUri
