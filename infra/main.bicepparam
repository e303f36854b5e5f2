// Parameters for `azd up` / `azd provision` and for `az deployment group create --parameters infra/main.bicepparam`.
// azd reads this file itself: it prefers infra/main.bicepparam over a main.parameters.json and compiles it with the
// azd environment's values (plus AZURE_PRINCIPAL_ID), so every value below comes from the environment
// (docs/deploy.md). `azd pipeline config` does not map .bicepparam parameters: azure.yaml lists the variables and
// secrets a pipeline needs.
//   AZURE_ENV_NAME, AZURE_LOCATION      set by azd
//   AZURE_PRINCIPAL_ID                  set by azd: the deploying principal, gets the operator roles
//   AZURE_PRINCIPAL_TYPE                optional, User (default) or ServicePrincipal (a pipeline)
//   VIPPS_BASE_URL                      optional, defaults to the Vipps test API
//   VIPPS_MERCHANTS                     JSON array, e.g. [{"id":"main","merchantSerialNumber":123456,"clientId":"...","currencies":["NOK"],"brand":"Vipps","targetUrlQrApproved":false}]
//   VIPPS_MERCHANT_SECRETS              JSON object, e.g. {"main":{"clientSecret":"...","subscriptionKey":"...","webhookSecret":"..."}}
//   WRITE_VIPPS_SECRETS                 optional, true writes VIPPS_MERCHANT_SECRETS into Key Vault (default false)
//   KEY_VAULT_PURGE_PROTECTION          optional, true for production (default false)
//   KEY_VAULT_NAME_SALT                 optional, changes the vault's name (a purge-protected one is still deleted)
//   NETWORK_ISOLATION                   optional, true: private endpoints + VNet (default false)
//   ALERT_EMAIL                         optional, where alerts are e-mailed
//   ALWAYS_READY_HTTP_INSTANCES         optional, defaults to 1
//   ALWAYS_READY_CAPTURE_INSTANCES      optional, defaults to 0
//   PUBLIC_BASE_URL                     optional, for a custom domain
//   OPERATOR_AUTH_CLIENT_ID             optional, the Entra app registration for operator sign-in (docs/operator.md)
using 'main.bicep'

param environmentName = readEnvironmentVariable('AZURE_ENV_NAME', 'dev')
param location = readEnvironmentVariable('AZURE_LOCATION', 'norwayeast')
param vippsBaseUrl = readEnvironmentVariable('VIPPS_BASE_URL', 'https://apitest.vipps.no')
param vippsMerchants = json(readEnvironmentVariable('VIPPS_MERCHANTS', '[]'))
param vippsMerchantSecrets = json(readEnvironmentVariable('VIPPS_MERCHANT_SECRETS', '{}'))
param writeVippsSecrets = bool(readEnvironmentVariable('WRITE_VIPPS_SECRETS', 'false'))
param keyVaultPurgeProtection = bool(readEnvironmentVariable('KEY_VAULT_PURGE_PROTECTION', 'false'))
param keyVaultNameSalt = readEnvironmentVariable('KEY_VAULT_NAME_SALT', '')
param networkIsolation = bool(readEnvironmentVariable('NETWORK_ISOLATION', 'false'))
param alertEmail = readEnvironmentVariable('ALERT_EMAIL', '')
param deployerPrincipalId = readEnvironmentVariable('AZURE_PRINCIPAL_ID', '')
param deployerPrincipalType = readEnvironmentVariable('AZURE_PRINCIPAL_TYPE', 'User')
param alwaysReadyHttpInstances = int(readEnvironmentVariable('ALWAYS_READY_HTTP_INSTANCES', '1'))
param alwaysReadyCaptureInstances = int(readEnvironmentVariable('ALWAYS_READY_CAPTURE_INSTANCES', '0'))
param publicBaseUrl = readEnvironmentVariable('PUBLIC_BASE_URL', '')
param operatorAuthClientId = readEnvironmentVariable('OPERATOR_AUTH_CLIENT_ID', '')
