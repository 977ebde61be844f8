/**
 * Where a node stands on its network: its DHT mode and whether it has an
 * address others can dial — watched, so the swarm actor can say when either
 * changes (`swarm:mode` progress events) and swarm.status can show it.
 *
 * The decision is kad-dht's own (16.x, kad-dht.ts): with `clientMode` left
 * unset ('auto') it starts as a client and, on every `self:peer:update`,
 * becomes a server when the node's own peer record holds a public address
 * (not private, not a relay) and a client again when it holds none. The
 * addresses in that record are the verified ones of libp2p's address
 * manager: announced addresses, listen addresses on private networks, and
 * public listen or observed addresses once AutoNAT has had them dialled back
 * (or UPnP has mapped them). This file only watches: it wraps the DHT's
 * setMode to learn when a switch has happened, and reads the addresses
 * libp2p announces.
 */
import { isPrivate } from '@libp2p/utils'
import type { Libp2p } from '@libp2p/interface'
import type { KadDHT } from '@libp2p/kad-dht'
import type { NetworkStatus } from '../../../messages/swarm.js'

export type { NetworkStatus } from '../../../messages/swarm.js'


/** listeners at once: one per swarm actor incarnation, and a few for tests */
const MAX_LISTENERS = 16
const MAX_SHOWN = 8

export class NetworkWatch {
  private readonly listeners = new Set<(s: NetworkStatus) => void>()
  private last: { mode: string, reachability: string }
  private modeChanges = 0
  private readonly onSelfUpdate = (): void => { this.check() }

  constructor (
    private readonly node: Libp2p<{ dht: KadDHT }>,
    private readonly setting: Omit<NetworkStatus, 'mode' | 'reachability' | 'publicAddresses' | 'modeChanges'>
  ) {
    const dht = node.services.dht
    // kad-dht calls this.setMode itself (its auto mode): an own property of the instance takes those calls too
    const setMode = dht.setMode.bind(dht)
    dht.setMode = async (mode, ...rest) => {
      await setMode(mode, ...rest)
      this.check()
    }
    node.addEventListener('self:peer:update', this.onSelfUpdate)
    const s = this.status()
    this.last = { mode: s.mode, reachability: s.reachability }
  }

  status (): NetworkStatus {
    const publicAddresses = this.node.getMultiaddrs()
      .filter(ma => !ma.toString().includes('/p2p-circuit') && isPrivate(ma) === false)
      .map(ma => ma.toString())
    return {
      ...this.setting,
      mode: this.node.services.dht.getMode(),
      reachability: publicAddresses.length > 0 ? 'public' : 'private',
      publicAddresses: publicAddresses.slice(0, MAX_SHOWN),
      modeChanges: this.modeChanges
    }
  }

  /** calls fn on every change of mode or reachability; returns its unsubscribe */
  onChange (fn: (s: NetworkStatus) => void): () => void {
    if (this.listeners.size >= MAX_LISTENERS) throw new RangeError(`at most ${MAX_LISTENERS} network listeners`)
    this.listeners.add(fn)
    return () => { this.listeners.delete(fn) }
  }

  stop (): void {
    this.node.removeEventListener('self:peer:update', this.onSelfUpdate)
    this.listeners.clear()
  }

  private check (): void {
    const s = this.status()
    if (s.mode === this.last.mode && s.reachability === this.last.reachability) return
    if (s.mode !== this.last.mode) this.modeChanges++
    this.last = { mode: s.mode, reachability: s.reachability }
    const out = { ...s, modeChanges: this.modeChanges }
    for (const fn of this.listeners) fn(out)
  }
}
