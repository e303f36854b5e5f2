// Parameters for `azd up` / `azd provision` and for `az deployment group create --parameters infra/main.bicepparam`.
// Values come from the environment (azd passes its environment's values, see docs/deploy.md):
//   AZURE_ENV_NAME, AZURE_LOCATION      set by azd
//   VIPPS_BASE_URL                      optional, defaults to the Vipps test API
//   VIPPS_MERCHANTS                     JSON array, e.g. [{"id":"main","merchantSerialNumber":"123456","clientId":"...","currencies":["NOK"],"brand":"Vipps","targetUrlQrApproved":false}]
//   VIPPS_MERCHANT_SECRETS              JSON object, e.g. {"main":{"clientSecret":"...","subscriptionKey":"...","webhookSecret":"..."}}
//   ALWAYS_READY_HTTP_INSTANCES         optional, defaults to 1
//   PUBLIC_BASE_URL                     optional, for a custom domain
using 'main.bicep'

param environmentName = readEnvironmentVariable('AZURE_ENV_NAME', 'dev')
param location = readEnvironmentVariable('AZURE_LOCATION', 'norwayeast')
param vippsBaseUrl = readEnvironmentVariable('VIPPS_BASE_URL', 'https://apitest.vipps.no')
param vippsMerchants = json(readEnvironmentVariable('VIPPS_MERCHANTS', '[]'))
param vippsMerchantSecrets = json(readEnvironmentVariable('VIPPS_MERCHANT_SECRETS', '{}'))
param alwaysReadyHttpInstances = int(readEnvironmentVariable('ALWAYS_READY_HTTP_INSTANCES', '1'))
param publicBaseUrl = readEnvironmentVariable('PUBLIC_BASE_URL', '')
