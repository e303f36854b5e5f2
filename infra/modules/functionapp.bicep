// Flex Consumption plan (FC1) and the Function App: dotnet-isolated on .NET 10, the package deployed from
// a blob container the app reads with its user-assigned identity, identity-based settings only.

@description('Required. Name of the Flex Consumption plan.')
param planName string

@description('Required. Name of the Function App (also its default host name prefix).')
param name string

@description('Required. Azure region of the plan and the app.')
param location string

@description('Optional. Tags applied to the plan.')
param tags object = {}

@description('Optional. Tags applied to the app only; azd finds the app to deploy by its azd-service-name tag.')
param appTags object = {}

@description('Required. Resource id of the user-assigned identity the app runs as (deployment storage, Key Vault references).')
param identityId string

@description('Required. Blob endpoint of the storage account holding the deployment container (ends with a slash).')
param deploymentBlobEndpoint string

@description('Required. Name of the deployment container.')
param deploymentContainerName string

@description('Required. App settings (name to value). Vending__PublicBaseUrl is added here from the app\'s host name unless publicBaseUrl is set.')
param appSettings object

@description('Optional. Public base URL of the API when it sits behind a custom domain; empty means https://{default host name}.')
param publicBaseUrl string = ''

@description('Optional. Instances of the HTTP trigger group (http) kept warm, so machine calls and webhooks see no cold start. 0 turns it off.')
@minValue(0)
@maxValue(20)
param alwaysReadyHttpInstances int = 1

@description('Optional. Instances kept warm for the capture queue function (SaleCommand). 0 (default): the first capture after an idle spell waits for a cold start (seconds); nobody is waiting on it, the machine already has its answer. Production fleets that want captures settled within seconds set 1.')
@minValue(0)
@maxValue(20)
param alwaysReadyCaptureInstances int = 0

@description('Optional. HTTP requests one instance runs at once before Flex Consumption adds an instance. The app is I/O-bound and every waiting long poll (up to 25 s per machine waiting for its customer) holds a slot while using almost no CPU, so 100 lets one instance carry a hundred waiting machines instead of scaling out for idle waits (the Flex default of 16 would).')
@minValue(1)
@maxValue(1000)
param httpPerInstanceConcurrency int = 100

@description('Optional. Subnet (delegated to Microsoft.App/environments) the app joins for networkIsolation; empty: no VNet integration.')
param subnetId string = ''

@description('Optional. Upper bound of instances the plan scales out to.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Optional. Memory of each instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

resource plan 'Microsoft.Web/serverfarms@2025-03-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2025-03-01' = {
  name: name
  location: location
  tags: union(tags, appTags)
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identityId
    virtualNetworkSubnetId: empty(subnetId) ? null : subnetId
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      // With VNet integration every outbound call (storage, vault, Service Bus, Vipps) leaves through the VNet,
      // so the private endpoints' DNS answers are used.
      vnetRouteAllEnabled: !empty(subnetId)
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${deploymentBlobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        alwaysReady: concat(
          alwaysReadyHttpInstances > 0
            ? [
                {
                  name: 'http'
                  instanceCount: alwaysReadyHttpInstances
                }
              ]
            : [],
          alwaysReadyCaptureInstances > 0
            ? [
                {
                  name: 'function:SaleCommand'
                  instanceCount: alwaysReadyCaptureInstances
                }
              ]
            : []
        )
        triggers: {
          http: {
            perInstanceConcurrency: httpPerInstanceConcurrency
          }
        }
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'dotnet-isolated'
        version: '10.0'
      }
    }
  }

  // Deployments use Entra (azd and the one-deploy API with a token); publishing profiles with a user name and
  // password would be a second, key-like way in: both off.
  resource ftpPublishing 'basicPublishingCredentialsPolicies' = {
    name: 'ftp'
    properties: {
      allow: false
    }
  }

  resource scmPublishing 'basicPublishingCredentialsPolicies' = {
    name: 'scm'
    properties: {
      allow: false
    }
  }

  // The whole set of settings: what is not here is removed on deploy, so the template stays the truth.
  resource settings 'config' = {
    name: 'appsettings'
    properties: union(appSettings, {
      Vending__PublicBaseUrl: empty(publicBaseUrl) ? 'https://${site.properties.defaultHostName}' : publicBaseUrl
    })
  }
}

@description('Operator sign-in (App Service Authentication with Entra ID): the app registration\'s client id; empty = off.')
param operatorAuthClientId string = ''

@description('Entra tenant of the operator app registration.')
param operatorAuthTenantId string = tenant().tenantId

// The app setting (set by main.bicep, a Key Vault reference) that holds the app registration's client secret.
var operatorAuthCredentialSetting = 'MICROSOFT_PROVIDER_AUTHENTICATION_SECRET'

// Paths App Service Authentication leaves alone: machines use their bearer keys, Vipps its HMAC, probes nothing.
var authExcludedPaths = [
  '/api/payments'
  '/api/payments/*'
  '/api/webhooks/vipps'
  '/api/health'
]

// Operator sign-in (docs/operator.md, "Sign-in and roles"). Authentication is not required at the platform: a
// signed-in person's principal is passed in x-ms-client-principal (clients cannot set it), and a call without one
// reaches the functions, which authorize every operator route themselves (the operator key for automation, the
// roles Vending.Operator / Vending.Viewer for people). The console page holds no data, so it may load unsigned.
resource authSettings 'Microsoft.Web/sites/config@2025-03-01' = {
  parent: site
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: !empty(operatorAuthClientId)
    }
    globalValidation: {
      requireAuthentication: false
      unauthenticatedClientAction: 'AllowAnonymous'
      excludedPaths: authExcludedPaths
    }
    httpSettings: {
      requireHttps: true
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: !empty(operatorAuthClientId)
        registration: {
          openIdIssuer: '${environment().authentication.loginEndpoint}${operatorAuthTenantId}/v2.0'
          clientId: operatorAuthClientId
          clientSecretSettingName: operatorAuthCredentialSetting
        }
        validation: {
          allowedAudiences: empty(operatorAuthClientId) ? [] : [
            'api://${operatorAuthClientId}'
            operatorAuthClientId
          ]
        }
      }
    }
    login: {
      tokenStore: {
        // The functions need only the principal header; no provider tokens are kept.
        enabled: false
      }
    }
  }
}

@description('Name of the Function App.')
output name string = site.name
@description('Default host name of the Function App.')
output defaultHostName string = site.properties.defaultHostName
@description('Public base URL of the API (Vending:PublicBaseUrl).')
output publicBaseUrl string = empty(publicBaseUrl) ? 'https://${site.properties.defaultHostName}' : publicBaseUrl
