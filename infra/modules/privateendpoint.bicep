// One private endpoint for one sub-resource (group) of a service, registered in its private DNS zone.

@description('Required. Name of the private endpoint.')
param name string

@description('Required. Azure region of the private endpoint (the VNet\'s).')
param location string

@description('Optional. Tags applied to the private endpoint.')
param tags object = {}

@description('Required. Resource id of the service (storage account, vault, Service Bus namespace).')
param serviceId string

@description('Required. Private link group of the service: blob, table, queue, vault or namespace.')
param groupId string

@description('Required. Subnet of the private endpoint.')
param subnetId string

@description('Required. Private DNS zone the endpoint registers its address in.')
param zoneId string

resource endpoint 'Microsoft.Network/privateEndpoints@2025-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    subnet: {
      id: subnetId
    }
    privateLinkServiceConnections: [
      {
        name: name
        properties: {
          privateLinkServiceId: serviceId
          groupIds: [
            groupId
          ]
        }
      }
    ]
  }

  resource dns 'privateDnsZoneGroups' = {
    name: 'default'
    properties: {
      privateDnsZoneConfigs: [
        {
          name: groupId
          properties: {
            privateDnsZoneId: zoneId
          }
        }
      ]
    }
  }
}

@description('Resource id of the private endpoint.')
output id string = endpoint.id
