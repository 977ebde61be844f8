/**
 * The DhtPort stand-in for replay: it never touches a network and never
 * completes anything by itself. During a replay the runtime ignores live
 * completions and delivers the recorded ones instead, so all this port has to
 * do is accept calls and stay silent.
 */
import type { DhtConnection, DhtGetValue, DhtPeerInfo, DhtPort, DhtPortStatus } from './dht-port.js'

const never = <T>(): Promise<T> => new Promise<T>(() => {})

function silent<T> (): AsyncIterable<T> {
  return { [Symbol.asyncIterator]: () => ({ next: never }) }
}

export class InertDhtPort implements DhtPort {
  constructor (readonly peerId: string, private readonly addrs: string[] = []) {}
  multiaddrs (): string[] { return [...this.addrs] }
  put (): Promise<{ peers: number }> { return never() }
  putTo (): Promise<{ peers: number }> { return never() }
  get (): AsyncIterable<DhtGetValue> { return silent() }
  provide (): Promise<{ peers: number }> { return never() }
  findProviders (): AsyncIterable<DhtPeerInfo> { return silent() }
  findPeer (): Promise<DhtPeerInfo> { return never() }
  closestPeers (): AsyncIterable<DhtPeerInfo> { return silent() }
  dial (): Promise<{ peerId: string }> { return never() }
  connections (): DhtConnection[] { return [] }
  bootstrap (): Promise<{ connected: number, routingTableSize: number }> { return never() }
  status (): DhtPortStatus {
    return { peerId: this.peerId, multiaddrs: this.multiaddrs(), connections: 0, routingTableSize: 0, mode: 'server' }
  }

  async stop (): Promise<void> {}
}
