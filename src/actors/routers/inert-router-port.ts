/**
 * A RouterPort that never answers: what a replay gives the routers actor,
 * since every answer of an endpoint comes from the trace instead.
 */
import type { RouterPort, RouterPortPeer } from './router-port.js'

const never = (): AsyncIterable<RouterPortPeer> => ({
  [Symbol.asyncIterator]: () => ({ next: async () => await new Promise<IteratorResult<RouterPortPeer>>(() => {}) })
})

export function inertRouterPort (endpoint: string): RouterPort {
  return {
    endpoint,
    getIpns: async () => await new Promise<Uint8Array>(() => {}),
    putIpns: async () => { await new Promise<void>(() => {}) },
    findProviders: () => never(),
    findPeers: () => never(),
    stop: async () => {}
  }
}
