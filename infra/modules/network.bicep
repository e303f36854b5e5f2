// networkIsolation: the VNet the Function App joins (Flex Consumption VNet integration) and the private DNS zones
// the private endpoints of Storage, Key Vault and Service Bus register in, so the app resolves their usual host
// names to private addresses.

@description('Required. Name of the virtual network.')
param name string

@description('Required. Azure region of the virtual network.')
param location string

@description('Optional. Tags applied to the network resources.')
param tags object = {}

@description('Optional. Address space of the virtual network.')
param addressPrefix string = '10.40.0.0/16'

@description('Optional. Subnet the Function App is integrated into (delegated to Microsoft.App/environments, as Flex Consumption requires).')
param appSubnetPrefix string = '10.40.1.0/24'

@description('Optional. Subnet of the private endpoints.')
param privateEndpointSubnetPrefix string = '10.40.2.0/24'

// The private link zones of the services the app reaches: blob (host state, deployment package), table and queue
// (our data), vault (Key Vault references), Service Bus (events).
var storageSuffix = environment().suffixes.storage
var zoneList = [
  { group: 'blob', name: 'privatelink.blob.${storageSuffix}' }
  { group: 'table', name: 'privatelink.table.${storageSuffix}' }
  { group: 'queue', name: 'privatelink.queue.${storageSuffix}' }
  { group: 'vault', name: 'privatelink.vaultcore.azure.net' }
  { group: 'namespace', name: 'privatelink.servicebus.windows.net' }
]

resource vnet 'Microsoft.Network/virtualNetworks@2025-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [
        addressPrefix
      ]
    }
    subnets: [
      {
        name: 'app'
        properties: {
          addressPrefix: appSubnetPrefix
          delegations: [
            {
              name: 'flex-consumption'
              properties: {
                serviceName: 'Microsoft.App/environments'
              }
            }
          ]
        }
      }
      {
        name: 'private-endpoints'
        properties: {
          addressPrefix: privateEndpointSubnetPrefix
          privateEndpointNetworkPolicies: 'Disabled'
        }
      }
    ]
  }

  resource appSubnet 'subnets' existing = {
    name: 'app'
  }

  resource endpointSubnet 'subnets' existing = {
    name: 'private-endpoints'
  }
}

resource zones 'Microsoft.Network/privateDnsZones@2024-06-01' = [
  for zone in zoneList: {
    name: zone.name
    location: 'global'
    tags: tags
  }
]

resource links 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = [
  for (zone, i) in zoneList: {
    parent: zones[i]
    name: '${name}-link'
    location: 'global'
    tags: tags
    properties: {
      registrationEnabled: false
      virtualNetwork: {
        id: vnet.id
      }
    }
  }
]

@description('Resource id of the subnet the Function App joins.')
output appSubnetId string = vnet::appSubnet.id
@description('Resource id of the subnet the private endpoints live in.')
output privateEndpointSubnetId string = vnet::endpointSubnet.id
@description('Resource id of each private DNS zone, by private link group (blob, table, queue, vault, namespace).')
output zoneIds object = toObject(zoneList, zone => zone.group, zone => resourceId('Microsoft.Network/privateDnsZones', zone.name))
