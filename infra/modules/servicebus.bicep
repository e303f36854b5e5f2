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

resource namespace 'Microsoft.ServiceBus/namespaces@2026-01-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: 'Standard'
    tier: 'Standard'
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
  }

  resource topic 'topics' = {
    name: topicName
    properties: {
      requiresDuplicateDetection: true
      duplicateDetectionHistoryTimeWindow: duplicateDetectionWindow
      defaultMessageTimeToLive: 'P14D'
      supportOrdering: true
    }
  }
}

@description('Name of the namespace.')
output name string = namespace.name
@description('Host name of the namespace, e.g. {name}.servicebus.windows.net (ServiceBus__fullyQualifiedNamespace).')
output fullyQualifiedNamespace string = split(split(namespace.properties.serviceBusEndpoint, '//')[1], ':')[0]
@description('Name of the topic.')
output topicName string = namespace::topic.name
