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

@description('Optional. Secrets per merchant id, written only when writeSecrets is true, and only for the merchants named here (adding a merchant names only the new one).')
@secure()
param merchantSecrets { *: vippsMerchantSecretsType } = {}

@description('Optional. True writes merchantSecrets into the vault (first deployment, adding a merchant). False (default) leaves the vault\'s secrets alone, so a redeploy never undoes a rotation made in the vault (docs/deploy.md).')
param writeSecrets bool = false

@description('Optional. Purge protection: a deleted vault cannot be purged for softDeleteRetentionInDays, so its name stays taken. On for production; once on it cannot be turned off.')
param enablePurgeProtection bool = false

@description('Optional. True: no public network access; the app resolves its Key Vault references through a private endpoint (and operators reach the vault from the VNet).')
param networkIsolation bool = false

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
    // ARM refuses false here: purge protection is either on or left out.
    enablePurgeProtection: enablePurgeProtection ? true : null
    // No VM, template or disk-encryption access path: nothing here uses them.
    enabledForDeployment: false
    enabledForTemplateDeployment: false
    enabledForDiskEncryption: false
    // Without networkIsolation the vault must stay reachable: the platform resolves the app's Key Vault references
    // from the app's shared outbound addresses, which no firewall rule can name (restricted vaults need a VNet).
    publicNetworkAccess: networkIsolation ? 'Disabled' : 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: networkIsolation ? 'Deny' : 'Allow'
    }
  }
}

resource clientSecrets 'Microsoft.KeyVault/vaults/secrets@2025-05-01' = [
  for merchant in merchants: if (writeSecrets && contains(merchantSecrets, merchant.id)) {
    parent: vault
    name: merchantSecretName(merchant.id, 'client-secret')
    properties: {
      value: merchantSecrets[merchant.id].clientSecret
      contentType: 'Vipps client_secret of merchant ${merchant.id}'
    }
  }
]

resource subscriptionKeys 'Microsoft.KeyVault/vaults/secrets@2025-05-01' = [
  for merchant in merchants: if (writeSecrets && contains(merchantSecrets, merchant.id)) {
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
  for merchant in merchants: if (writeSecrets && !empty(merchantSecrets[?merchant.id].?webhookSecret ?? '')) {
    parent: vault
    name: merchantSecretName(merchant.id, 'webhook-secret')
    properties: {
      value: merchantSecrets[merchant.id].webhookSecret!
      contentType: 'Vipps webhook secret of merchant ${merchant.id}'
    }
  }
]

@description('Resource id of the vault.')
output id string = vault.id
@description('Name of the vault.')
output name string = vault.name
@description('Vault URI, e.g. https://{name}.vault.azure.net/ (ends with a slash).')
output vaultUri string = vault.properties.vaultUri
