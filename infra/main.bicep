// The vending payment back end: a Flex Consumption Function App on .NET 10 that talks to Vipps MobilePay,
// keeps sales in Table Storage, runs commands from a Storage queue and publishes events to Service Bus.
// Identity everywhere: one user-assigned managed identity, no storage keys, no SAS, no instrumentation keys.
// Names (settings, tables, queues, topic) are the contracts in docs/ARCHITECTURE.md.

targetScope = 'resourceGroup'

import { vippsMerchantType, vippsMerchantSecretsType, merchantSecretName } from 'modules/types.bicep'

@description('Required. Name of the azd environment (dev, test, prod...): part of the resource token and the azd-env-name tag.')
@minLength(1)
@maxLength(64)
param environmentName string

@description('Required. Azure region for all resources; must offer Flex Consumption.')
param location string

@description('Optional. Base URL of the Vipps MobilePay API: https://apitest.vipps.no (test) or https://api.vipps.no (production).')
param vippsBaseUrl string = 'https://apitest.vipps.no'

@description('Required. The merchants (sales units) machines sell through; each becomes Vipps__Merchants__{id}__* settings.')
@minLength(1)
param vippsMerchants vippsMerchantType[]

@description('Optional. Secrets of every merchant in vippsMerchants, keyed by merchant id; written to Key Vault (never to app settings) only when writeVippsSecrets is true.')
@secure()
param vippsMerchantSecrets { *: vippsMerchantSecretsType } = {}

@description('Optional. True writes vippsMerchantSecrets into Key Vault (first deployment, a new merchant). False (default): provisioning leaves the vault\'s secrets alone, so a rotation done in the vault is never undone (docs/deploy.md).')
param writeVippsSecrets bool = false

@description('Optional. Key Vault purge protection: on for production (a deleted vault then keeps its name for the retention period and cannot be turned off); off lets `azd down --purge` free the name for the next `azd up`.')
param keyVaultPurgeProtection bool = false

@description('Optional. Any text: changes the Key Vault name, for a redeploy while a purge-protected vault of the old name is still soft-deleted.')
param keyVaultNameSalt string = ''

@description('Optional. Storage, Key Vault and Service Bus only behind private endpoints, the Function App on a VNet (Service Bus becomes Premium: private endpoints need it). See docs/deploy.md for what stays public without it and why.')
param networkIsolation bool = false

@description('Optional. E-mail address of the action group every alert goes to; empty: alerts show in the portal only.')
param alertEmail string = ''

@description('Optional. Object id of the deploying principal (azd sets AZURE_PRINCIPAL_ID): gets Key Vault Secrets Officer on the vault and Storage Table Data Reader on the account, the roles docs/deploy.md tells ops to use.')
param deployerPrincipalId string = ''

@description('Optional. User for a person running azd, ServicePrincipal for a pipeline.')
@allowed([
  'User'
  'ServicePrincipal'
  'Group'
])
param deployerPrincipalType string = 'User'

@description('Optional. Always-ready instances of the capture queue function (SaleCommand); see docs/deploy.md for the choice.')
@minValue(0)
@maxValue(20)
param alwaysReadyCaptureInstances int = 0

@description('Optional. NCRONTAB schedule of the reconciler timer (Reconciler:Schedule).')
param reconcilerSchedule string = '0 */1 * * * *'

@description('Optional. Service Bus topic of payment events (Events:TopicName).')
param eventsTopicName string = 'payment-events'

@description('Optional. Always-ready instances of the HTTP trigger group; 1 keeps QR creation free of cold starts, 0 saves the cost.')
@minValue(0)
@maxValue(20)
param alwaysReadyHttpInstances int = 1

@description('Optional. Public base URL when the API sits behind a custom domain; empty means the Function App\'s https default host name.')
param publicBaseUrl string = ''

@description('Operator sign-in: client id of the Entra app registration with the app roles Vending.Operator and Vending.Viewer (docs/operator.md). Empty: sign-in off; the operator key still works.')
param operatorAuthClientId string = ''

@description('Entra tenant of the operator app registration (default: this deployment\'s tenant).')
param operatorAuthTenantId string = tenant().tenantId

var abbrs = loadJsonContent('abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName))
var tags = {
  'azd-env-name': environmentName
}
var names = {
  identity: '${abbrs.managedIdentityUserAssignedIdentities}${resourceToken}'
  storage: '${abbrs.storageStorageAccounts}${resourceToken}'
  logAnalytics: '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
  applicationInsights: '${abbrs.insightsComponents}${resourceToken}'
  keyVault: '${abbrs.keyVaultVaults}${empty(keyVaultNameSalt) ? resourceToken : uniqueString(resourceToken, keyVaultNameSalt)}'
  serviceBus: '${abbrs.serviceBusNamespaces}${resourceToken}'
  plan: '${abbrs.webServerFarms}${resourceToken}'
  functionApp: '${abbrs.webSitesFunctions}${resourceToken}'
  virtualNetwork: '${abbrs.networkVirtualNetworks}${resourceToken}'
  privateEndpoint: '${abbrs.networkPrivateEndpoints}${resourceToken}'
  alerts: 'vending-${resourceToken}'
}

// Contracts with the code (docs/ARCHITECTURE.md, Vending.Core QueueNames): tests/Infra.Tests checks them.
var tableNames = [
  'Sales'
  'OpenSales'
  'Machines'
  'UnmatchedWebhooks'
  'WebhookRegistrations'
  'OperatorAudit'
  'SalesByDay'
]
var queueNames = [
  'sale-commands'
  'sale-commands-poison'
]
var deploymentContainerName = 'app-package'

module identity 'modules/identity.bicep' = {
  name: 'identity'
  params: {
    name: names.identity
    location: location
    tags: tags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    name: names.storage
    location: location
    tags: tags
    tableNames: tableNames
    queueNames: queueNames
    deploymentContainerName: deploymentContainerName
    networkIsolation: networkIsolation
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    logAnalyticsName: names.logAnalytics
    applicationInsightsName: names.applicationInsights
    location: location
    tags: tags
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  params: {
    name: names.keyVault
    location: location
    tags: tags
    merchants: vippsMerchants
    merchantSecrets: vippsMerchantSecrets
    writeSecrets: writeVippsSecrets
    enablePurgeProtection: keyVaultPurgeProtection
    networkIsolation: networkIsolation
  }
}

module serviceBus 'modules/servicebus.bicep' = {
  name: 'servicebus'
  params: {
    name: names.serviceBus
    location: location
    tags: tags
    topicName: eventsTopicName
    networkIsolation: networkIsolation
  }
}

module network 'modules/network.bicep' = if (networkIsolation) {
  name: 'network'
  params: {
    name: names.virtualNetwork
    location: location
    tags: tags
  }
}

// One private endpoint per service group the app reaches; none without networkIsolation.
var privateEndpoints = networkIsolation
  ? [
      { group: 'blob', serviceId: resourceId('Microsoft.Storage/storageAccounts', names.storage) }
      { group: 'table', serviceId: resourceId('Microsoft.Storage/storageAccounts', names.storage) }
      { group: 'queue', serviceId: resourceId('Microsoft.Storage/storageAccounts', names.storage) }
      { group: 'vault', serviceId: resourceId('Microsoft.KeyVault/vaults', names.keyVault) }
      { group: 'namespace', serviceId: resourceId('Microsoft.ServiceBus/namespaces', names.serviceBus) }
    ]
  : []

module endpoints 'modules/privateendpoint.bicep' = [
  for endpoint in privateEndpoints: {
    name: 'pe-${endpoint.group}'
    // The services exist before their endpoints (their ids are known names, not outputs).
    dependsOn: [
      storage
      keyVault
      serviceBus
    ]
    params: {
      name: '${names.privateEndpoint}-${endpoint.group}'
      location: location
      tags: tags
      serviceId: endpoint.serviceId
      groupId: endpoint.group
      subnetId: network.?outputs.privateEndpointSubnetId ?? ''
      zoneId: network.?outputs.zoneIds[endpoint.group] ?? ''
    }
  }
]

module alerts 'modules/alerts.bicep' = {
  name: 'alerts'
  params: {
    namePrefix: names.alerts
    location: location
    tags: tags
    applicationInsightsId: monitoring.outputs.applicationInsightsId
    alertEmail: alertEmail
  }
}

// Names are passed as values known at the start of the deployment (what-if sees the exact assignments);
// the dependencies are therefore explicit.
module roles 'modules/roles.bicep' = {
  name: 'roles'
  dependsOn: [
    storage
    keyVault
    serviceBus
    monitoring
  ]
  params: {
    // A new identity's principal id exists only at run time; the assignment names still are
    // guid(scope, principal, role), stable across redeployments.
    #disable-next-line what-if-short-circuiting
    principalId: identity.outputs.principalId
    storageAccountName: names.storage
    keyVaultName: names.keyVault
    serviceBusNamespaceName: names.serviceBus
    serviceBusTopicName: eventsTopicName
    applicationInsightsName: names.applicationInsights
    tableNames: tableNames
    queueNames: queueNames
    deployerPrincipalId: deployerPrincipalId
    deployerPrincipalType: deployerPrincipalType
  }
}

// A Key Vault reference, resolved by the platform with keyVaultReferenceIdentity. Versionless: a new secret
// version is picked up on the next refresh or restart.
func keyVaultReference(vaultUri string, secretName string) string => '@Microsoft.KeyVault(SecretUri=${vaultUri}secrets/${secretName})'

// Vipps__Merchants__{id}__*: plain values for what is not secret, Key Vault references for what is.
func merchantSettings(merchant vippsMerchantType, vaultUri string) object => union(
  {
    'Vipps__Merchants__${merchant.id}__MerchantSerialNumber': string(merchant.merchantSerialNumber)
    'Vipps__Merchants__${merchant.id}__ClientId': merchant.clientId
    'Vipps__Merchants__${merchant.id}__ClientSecret': keyVaultReference(vaultUri, merchantSecretName(merchant.id, 'client-secret'))
    'Vipps__Merchants__${merchant.id}__SubscriptionKey': keyVaultReference(vaultUri, merchantSecretName(merchant.id, 'subscription-key'))
    'Vipps__Merchants__${merchant.id}__WebhookSecret': keyVaultReference(vaultUri, merchantSecretName(merchant.id, 'webhook-secret'))
  },
  toObject(range(0, length(merchant.currencies)), i => 'Vipps__Merchants__${merchant.id}__Currencies__${i}', i => merchant.currencies[i]),
  empty(merchant.?brand ?? '') ? {} : { 'Vipps__Merchants__${merchant.id}__Brand': merchant.brand! },
  merchant.?targetUrlQrApproved == null
    ? {}
    : { 'Vipps__Merchants__${merchant.id}__TargetUrlQrApproved': merchant.targetUrlQrApproved! ? 'true' : 'false' }
)

var identitySettings = {
  // Functions host storage (keys, leases, timer schedule state) by managed identity.
  AzureWebJobsStorage__accountName: storage.outputs.name
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identity.outputs.clientId
  // Our tables and the command queue; VendingStorage is also the queue trigger's Connection.
  VendingStorage__tableServiceUri: storage.outputs.tableEndpoint
  VendingStorage__queueServiceUri: storage.outputs.queueEndpoint
  VendingStorage__credential: 'managedidentity'
  VendingStorage__clientId: identity.outputs.clientId
  // Outbound events.
  ServiceBus__fullyQualifiedNamespace: serviceBus.outputs.fullyQualifiedNamespace
  ServiceBus__credential: 'managedidentity'
  ServiceBus__clientId: identity.outputs.clientId
  // Telemetry with an Entra token (local auth is disabled on the component).
  APPLICATIONINSIGHTS_CONNECTION_STRING: monitoring.outputs.applicationInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identity.outputs.clientId};Authorization=AAD'
}

var appBehaviourSettings = {
  // Workaround for the open .NET 10 start-up crash on Flex Consumption placeholders
  // (Azure/azure-functions-dotnet-worker#3335): start the worker without the placeholder.
  WEBSITE_USE_PLACEHOLDER_DOTNETISOLATED: '0'
  Vipps__BaseUrl: vippsBaseUrl
  Reconciler__Schedule: reconcilerSchedule
  Events__TopicName: serviceBus.outputs.topicName
  // Re-registers webhook registrations Vipps deleted (daily and at start, docs/operations.md).
  WebhookWatchdog__Enabled: 'true'
}

// Operator access (docs/operator.md, "Sign-in and roles"): the principal header is trusted only where App Service
// Authentication is on (it strips any a client sends); automation's operator key and the sign-in client secret are
// Key Vault secrets ops create (docs/deploy.md).
var operatorSettings = union(
  {
    Vending__Operator__TrustPlatformPrincipal: empty(operatorAuthClientId) ? 'false' : 'true'
    Vending__Operator__AutomationKey: keyVaultReference(keyVault.outputs.vaultUri, 'operator-automation-key')
  },
  empty(operatorAuthClientId) ? {} : {
    MICROSOFT_PROVIDER_AUTHENTICATION_SECRET: keyVaultReference(keyVault.outputs.vaultUri, 'operator-auth-client-secret')
  }
)

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  // The app starts as soon as it has settings: its roles must exist first, or the host and the Key Vault
  // references fail until the next restart (scripts/postprovision.sh checks and nudges); with networkIsolation
  // the private endpoints must exist too, or the first resolution goes nowhere.
  dependsOn: [
    roles
    endpoints
  ]
  params: {
    planName: names.plan
    name: names.functionApp
    location: location
    tags: tags
    appTags: {
      'azd-service-name': 'api'
    }
    identityId: identity.outputs.id
    deploymentBlobEndpoint: storage.outputs.blobEndpoint
    deploymentContainerName: storage.outputs.deploymentContainerName
    alwaysReadyHttpInstances: alwaysReadyHttpInstances
    alwaysReadyCaptureInstances: alwaysReadyCaptureInstances
    subnetId: network.?outputs.appSubnetId ?? ''
    publicBaseUrl: publicBaseUrl
    operatorAuthClientId: operatorAuthClientId
    operatorAuthTenantId: operatorAuthTenantId
    appSettings: union(
      identitySettings,
      appBehaviourSettings,
      operatorSettings,
      reduce(map(vippsMerchants, m => merchantSettings(m, keyVault.outputs.vaultUri)), {}, (all, one) => union(all, one))
    )
  }
}

@description('Region of the deployment.')
output AZURE_LOCATION string = location
@description('Name of the Function App (azd service api).')
output SERVICE_API_NAME string = functionApp.outputs.name
@description('Public base URL of the API; the Vipps webhook URL is {this}/api/webhooks/vipps.')
output SERVICE_API_URI string = functionApp.outputs.publicBaseUrl
@description('Client id of the app\'s managed identity.')
output AZURE_MANAGED_IDENTITY_CLIENT_ID string = identity.outputs.clientId
@description('Storage account with the tables and queues (for provisioning machines).')
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
@description('Key Vault with the Vipps secrets (set webhook secrets here after registering the webhook).')
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
@description('Service Bus namespace of the events topic.')
output AZURE_SERVICE_BUS_NAMESPACE string = serviceBus.outputs.fullyQualifiedNamespace
@description('Resource group of the deployment (for scripts/postprovision.sh).')
output AZURE_RESOURCE_GROUP string = resourceGroup().name
@description('Name of the topic\'s default subscription that keeps every event.')
output AZURE_SERVICE_BUS_DEFAULT_SUBSCRIPTION string = serviceBus.outputs.defaultSubscriptionName
