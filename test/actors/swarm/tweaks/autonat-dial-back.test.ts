/**
 * withFreshDialBack: AutoNAT's dial-back (one address) gets `force: true`, so
 * libp2p opens a new connection instead of handing back the one the request
 * came on; its random walk (a list of addresses) and everything else on the
 * connection manager pass through untouched. The live effect — one node
 * confirming another's address — is in test/node/network-autonat.test.ts.
 */
import { describe, expect, it } from 'vitest'
import { multiaddr } from '@multiformats/multiaddr'
import { withFreshDialBack } from '../../../../src/actors/swarm/tweaks/autonat-dial-back.js'

describe('withFreshDialBack', () => {
  it('forces a fresh connection for a dial-back, and only for it', async () => {
    const calls: Array<{ peer: unknown, options: unknown }> = []
    const manager = {
      openConnection: async (peer: unknown, options?: unknown) => { calls.push({ peer, options }); return { id: 'c' } },
      getMaxConnections: () => 7
    }
    let seen: typeof manager | undefined
    const factory = withFreshDialBack(((components: { connectionManager: typeof manager, other: number }) => {
      seen = components.connectionManager
      return components.other
    }) as never as (c: Parameters<Parameters<typeof withFreshDialBack>[0]>[0]) => number)
    expect(factory({ connectionManager: manager, other: 42 } as never)).toBe(42)
    const addr = multiaddr('/ip4/127.0.0.1/tcp/1')
    const signal = new AbortController().signal
    await seen?.openConnection(addr, { signal })
    await seen?.openConnection([addr], { signal })
    expect(calls).toEqual([{ peer: addr, options: { signal, force: true } }, { peer: [addr], options: { signal } }])
    expect(seen?.getMaxConnections()).toBe(7)
  })
})
