import type {
  DhtClosestPeers, DhtFindPeer, DhtFindProviders, DhtGet, DhtGetValues, DhtProvide, DhtPut, DhtPutTo,
  SwarmBootstrap, SwarmDial, SwarmPeers, SwarmStatus
} from '../../messages/swarm.js'

export type SwarmCommand =
  | DhtPut | DhtPutTo | DhtGet | DhtGetValues | DhtProvide | DhtFindProviders | DhtFindPeer | DhtClosestPeers
  | SwarmDial | SwarmPeers | SwarmBootstrap | SwarmStatus

export const SWARM_ASKS = ['dht.put', 'dht.putTo', 'dht.get', 'dht.provide', 'dht.findPeer', 'swarm.dial', 'swarm.peers', 'swarm.bootstrap', 'swarm.status'] as const
export const SWARM_STREAMS = ['dht.findProviders', 'dht.closestPeers', 'dht.getValues'] as const
