/**
 * Contract: libp2p-options.ts configures kad-dht with init options whose
 * names and shapes a spread hides from the type checker
 * (LOOPBACK_KAD_TIMEOUTS), and relies on what they do: with
 * `allowQueryWithZeroPeers` a query on an empty routing table ends at once
 * instead of waiting for a first peer until the caller's signal fires.
 * Written against @libp2p/kad-dht 16.4.5.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { LOOPBACK_KAD_TIMEOUTS } from '../../src/actors/swarm/libp2p/libp2p-options.js'
import { key, startNode, stopNodes, writtenAgainst } from './support.js'
import type { KadDHTInit } from '@libp2p/kad-dht'

afterEach(stopNodes)

describe('contract: kad-dht init options (libp2p-options.ts)', () => {
  it('@libp2p/kad-dht is 16.4.5', () => { writtenAgainst('@libp2p/kad-dht', '16.4.5') })

  it('the loopback timeouts and allowQueryWithZeroPeers are KadDHTInit options (npm run typecheck fails otherwise)', () => {
    const init: Required<Pick<KadDHTInit, 'pingNewContactTimeout' | 'onPeerConnectTimeout' | 'allowQueryWithZeroPeers'>> = { ...LOOPBACK_KAD_TIMEOUTS, allowQueryWithZeroPeers: true }
    expect(Object.keys(init).sort()).toEqual(['allowQueryWithZeroPeers', 'onPeerConnectTimeout', 'pingNewContactTimeout'])
  })

  it('a get on an empty routing table ends by itself, before its signal fires', async () => {
    const lone = await startNode('opts', 0)
    const abort = new AbortController()
    const names: string[] = []
    const watchdog = setTimeout(() => { abort.abort() }, 20_000)
    try {
      for await (const e of lone.services.dht.get(key('nobody-has-it'), { signal: abort.signal })) names.push(e.name)
    } catch (err) {
      // kad-dht may end such a query with a not-found error: still by itself
      names.push((err as Error).name)
    } finally {
      clearTimeout(watchdog)
    }
    expect(abort.signal.aborted, 'the query waited for a peer until the signal fired').toBe(false)
  }, 30_000)
})
