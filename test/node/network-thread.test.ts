/**
 * createNode({ networkThread: true }): nodes whose libp2p port runs in a
 * worker thread, on a 5-node loopback TCP testnet with direct nodes.
 * Publish on a direct node and resolve (uncached) on a threaded one, and the
 * other way; and the options a network thread refuses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createNode } from '../../src/node/create-node.js'
import { createTestnet } from '../../src/node/create-testnet.js'
import type { SwarmNode } from '../../src/node/create-node.js'
import type { Testnet } from '../../src/node/create-testnet.js'

const VALUE = '/ipfs/bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'
const THREADED = new Set([0, 3])

describe('createNode({ networkThread: true }) in a testnet', () => {
  let net: Testnet
  const node = (i: number): SwarmNode => net.nodes[i] ?? (() => { throw new Error(`no node ${i}`) })()

  beforeAll(async () => {
    net = await createTestnet({ nodes: 5, seed: 77_000, settleTimeoutMs: 30_000, nodeAt: async i => THREADED.has(i) ? { networkThread: true } : {} })
  })

  afterAll(async () => {
    await net?.stop()
  })

  it('joins the mesh: a threaded node\'s swarm.status shows its peers and the thread', async () => {
    expect(net.report.settled).toBe(true)
    const s = await node(0).ask({ type: 'swarm.status' })
    expect(s.routingTableSize).toBe(4)
    expect(node(0).multiaddrs[0]).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/12D3KooW/)
  })

  it('resolves, uncached, on a threaded node a name published on a direct one, and the other way', async () => {
    await node(2).ask({ type: 'key.generate', name: 'a' })
    const a = await node(2).ask({ type: 'ipns.publish', key: 'a', value: VALUE })
    const r = await node(0).ask({ type: 'ipns.resolve', name: a.name, nocache: true }, { timeoutMs: 20_000 })
    expect(r.value).toBe(VALUE)

    await node(3).ask({ type: 'key.generate', name: 'b' })
    const b = await node(3).ask({ type: 'ipns.publish', key: 'b', value: `${VALUE}/b` })
    expect(b.peers).toBeGreaterThanOrEqual(3)
    const r2 = await node(1).ask({ type: 'ipns.resolve', name: b.name, nocache: true }, { timeoutMs: 20_000 })
    expect(r2.value).toBe(`${VALUE}/b`)
    // threaded to threaded
    const r3 = await node(0).ask({ type: 'ipns.resolve', name: b.name, nocache: true }, { timeoutMs: 20_000 })
    expect(r3.value).toBe(`${VALUE}/b`)
  })

  it('a threaded node serves dht.put / dht.get of the swarmbus namespace', async () => {
    const key = new TextEncoder().encode('/swarmbus/threaded')
    const put = await node(3).ask({ type: 'dht.put', key, value: new TextEncoder().encode('hi') })
    expect(put.peers).toBeGreaterThanOrEqual(3)
    const got = await node(4).ask({ type: 'dht.get', key })
    expect(new TextDecoder().decode(got.value)).toBe('hi')
  })
})

describe('createNode({ networkThread: true }) refuses what cannot cross to the thread', () => {
  it.each([
    ['validators', { validators: { x: () => {} }, selectors: { x: () => 0 } }],
    ['connectionGater', { connectionGater: {} }],
    ['libp2pMetrics', { libp2pMetrics: () => ({}) as never }],
    ['repo', { repo: '/tmp/swarmbus-never-created' }],
    ['transport', { transport: 'memory' as const }]
  ])('%s', async (_name, extra) => {
    await expect(createNode({ networkThread: true, ...extra })).rejects.toBeInstanceOf(TypeError)
  })
})
