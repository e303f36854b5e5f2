// Service Bus namespace and the topic of outbound payment events. SAS keys are disabled: the app sends
// with its managed identity (Azure Service Bus Data Sender on the topic). Duplicate detection on the topic
// turns the outbox's at-least-once delivery into effectively-once for subscribers (the event id is the
// MessageId).

@description('Required. Service Bus namespace name (globally unique).')
param name string

@description('Required. Azure region of the namespace.')
param location string

@description('Optional. Tags applied to the namespace.')
param tags object = {}

@description('Required. Topic the app publishes payment events to (Events:TopicName).')
param topicName string

@description('Optional. How long the topic remembers message ids for duplicate detection (ISO 8601).')
param duplicateDetectionWindow string = 'PT1H'

@description('Optional. True: Premium tier (private endpoints need it) with public network access disabled. False: Standard, reachable publicly (the app sends from shared outbound addresses) with SAS disabled.')
param networkIsolation bool = false

@description('Optional. The topic\'s default subscription: keeps every event from the first one on, so events published before a consumer subscribes are not dropped while the outbox counts them as sent. Expired ones go to its dead-letter queue.')
param defaultSubscriptionName string = 'archive'

@description('Optional. How long the default subscription keeps an event (ISO 8601).')
param defaultSubscriptionTimeToLive string = 'P14D'

resource namespace 'Microsoft.ServiceBus/namespaces@2026-01-01' = {
  name: name
  location: location
  tags: tags
  sku: networkIsolation
    ? {
        name: 'Premium'
        tier: 'Premium'
        capacity: 1
      }
    : {
        name: 'Standard'
        tier: 'Standard'
      }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    publicNetworkAccess: networkIsolation ? 'Disabled' : 'Enabled'
  }

  resource topic 'topics' = {
    name: topicName
    properties: {
      requiresDuplicateDetection: true
      duplicateDetectionHistoryTimeWindow: duplicateDetectionWindow
      defaultMessageTimeToLive: 'P14D'
      supportOrdering: true
    }

    resource defaultSubscription 'subscriptions' = {
      name: defaultSubscriptionName
      properties: {
        defaultMessageTimeToLive: defaultSubscriptionTimeToLive
        deadLetteringOnMessageExpiration: true
        deadLetteringOnFilterEvaluationExceptions: true
        maxDeliveryCount: 10
        lockDuration: 'PT1M'
      }
    }
  }
}

@description('Resource id of the namespace.')
output id string = namespace.id
@description('Name of the namespace.')
output name string = namespace.name
@description('Name of the default subscription.')
output defaultSubscriptionName string = namespace::topic::defaultSubscription.name
@description('Host name of the namespace, e.g. {name}.servicebus.windows.net (ServiceBus__fullyQualifiedNamespace).')
output fullyQualifiedNamespace string = split(split(namespace.properties.serviceBusEndpoint, '//')[1], ':')[0]
@description('Name of the topic.')
output topicName string = namespace::topic.name
