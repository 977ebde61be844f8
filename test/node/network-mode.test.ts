/**
 * DHT mode 'auto' (the amino profile's): kad-dht's own auto mode, which
 * serves once the node's peer record holds a public address (announced, or
 * confirmed by AutoNAT / UPnP) and is a client while it holds none; the
 * node shows it in swarm.status.network and says when it switches
 * (`swarm:mode` progress). Fixed modes stay fixed. All on loopback: the
 * "public" address is only announced (TEST-NET-3-like 11.x is not private
 * to libp2p, and nothing dials it: the guard would fail the test).
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createNode } from '../../src/node/create-node.js'
import { poll } from './support.js'
import type { SwarmNode } from '../../src/node/create-node.js'
import type { ProgressEvent } from '../../src/actors/runtime/actor.js'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c() })

async function node (options: Parameters<typeof createNode>[0]): Promise<SwarmNode> {
  const n = await createNode({ verifier: 'inline', republish: false, ...options })
  cleanups.push(async () => { await n.stop() })
  return n
}

const AMINO_HERE = { profile: 'amino', tcpPort: 0, wsPort: false, autonat: false } as const

describe('DHT mode on the network', () => {
  it('auto without a public address: a client, reachability private', async () => {
    const n = await node({ network: AMINO_HERE, bootstrap: [], loopback: true })
    const { network, mode } = await n.ask({ type: 'swarm.status' })
    expect(mode).toBe('client')
    expect(network).toMatchObject({ profile: 'amino', modeSetting: 'auto', mode: 'client', reachability: 'private', publicAddresses: [], autonat: false, upnp: false })
  })

  it('auto with a confirmed public address switches to server, in swarm.status and as a swarm:mode event', async () => {
    const events: ProgressEvent[] = []
    const n = await createNode({
      verifier: 'inline', republish: false, network: AMINO_HERE, bootstrap: [], loopback: true,
      listen: ['/ip4/127.0.0.1/tcp/0'], announce: ['/ip4/11.22.33.44/tcp/4001']
    })
    cleanups.push(async () => { await n.stop() })
    n.on('progress', e => { if (e.type === 'swarm:mode') events.push(e) })
    expect(await poll(async () => (await n.ask({ type: 'swarm.status' })).mode === 'server', 10_000)).toBe(true)
    const { network } = await n.ask({ type: 'swarm.status' })
    expect(network).toMatchObject({ modeSetting: 'auto', mode: 'server', reachability: 'public', modeChanges: 1 })
    expect(network?.publicAddresses[0]).toMatch(/^\/ip4\/11\.22\.33\.44\/tcp\/4001\/p2p\//)
    expect(await poll(() => events.length > 0, 5_000)).toBe(true)
    expect(events[0]?.actor).toBe('swarm')
    expect(events[0]?.detail).toMatchObject({ mode: 'server', reachability: 'public' })
  })

  it('fixed modes stay: local is a server, an explicit client stays one even with a public address', async () => {
    const local = await node({})
    expect((await local.ask({ type: 'swarm.status' })).network).toMatchObject({ profile: 'local', modeSetting: 'server', mode: 'server' })
    const client = await node({ network: AMINO_HERE, bootstrap: [], loopback: true, mode: 'client', listen: ['/ip4/127.0.0.1/tcp/0'], announce: ['/ip4/11.22.33.45/tcp/4001'] })
    await new Promise(resolve => setTimeout(resolve, 1_500))
    expect((await client.ask({ type: 'swarm.status' })).network).toMatchObject({ modeSetting: 'client', mode: 'client', reachability: 'public', modeChanges: 0 })
  })
})
