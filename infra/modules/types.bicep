// Shared parameter types.

@export()
@description('A currency Vipps MobilePay ePayment sells in (the app refuses others at start, so the deployment refuses them first).')
type vippsCurrencyType = 'NOK' | 'DKK' | 'EUR'

@export()
@description('One Vipps MobilePay merchant (sales unit) the machines sell through. Becomes the settings Vipps__Merchants__{id}__*.')
type vippsMerchantType = {
  @description('Required. Our merchant id: the key under Vipps:Merchants and in Machines rows. Letters and digits only: it is part of app setting names (App Service allows letters, digits, periods and underscores) and Key Vault secret names (letters, digits, dashes).')
  @minLength(1)
  @maxLength(40)
  id: string

  @description('Required. Merchant serial number (MSN) of the sales unit: 4 to 10 digits, written as a JSON number (e.g. 123456) so a value the app would refuse at start fails the deployment instead.')
  @minValue(1000)
  @maxValue(9999999999)
  merchantSerialNumber: int

  @description('Required. client_id of the sales unit\'s API keys (not secret).')
  clientId: string

  @description('Required. Currencies the sales unit accepts, e.g. [\'NOK\']: ePayment sells in NOK, DKK and EUR only.')
  @minLength(1)
  currencies: vippsCurrencyType[]

  @description('Optional. Brand shown to machines and operators: Vipps or MobilePay (the app defaults to Vipps).')
  brand: ('Vipps' | 'MobilePay')?

  @description('Optional. True when Vipps MobilePay approved this merchant for qrFormat TEXT/TARGETURL (we render the QR ourselves); the app defaults to false.')
  targetUrlQrApproved: bool?
}

@export()
@description('The secrets of one merchant. Stored in Key Vault; the app reads them through Key Vault references.')
type vippsMerchantSecretsType = {
  @description('Required. client_secret of the sales unit\'s API keys.')
  clientSecret: string

  @description('Required. Ocp-Apim-Subscription-Key of the sales unit.')
  subscriptionKey: string

  @description('Optional. Secret returned by Vipps when the webhook was registered. Leave out before the webhook exists: the Key Vault reference then stays unresolved until the secret is set (see docs/deploy.md).')
  webhookSecret: string?
}

@export()
@description('Key Vault secret name of one merchant secret.')
func merchantSecretName(merchantId string, secret string) string => 'vipps-${toLower(merchantId)}-${secret}'
