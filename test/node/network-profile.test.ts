/**
 * createNode({ network }) with real nodes on this machine: the default
 * profile dials nothing it was not given; a dial-only node (listen: [])
 * joins and works as a DHT client; an amino node with local stand-ins for
 * its bootstrap list listens on every interface over TCP and WebSockets and
 * joins; and an amino node left with its public bootstrap list tries exactly
 * kubo's peers — which the network guard refuses, so nothing leaves.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createNode } from '../../src/node/create-node.js'
import { AMINO_BOOTSTRAP } from '../../src/actors/swarm/libp2p/profiles.js'
import { startDnsServer } from '../helpers/dns-server.js'
import { takeNetworkViolations } from '../setup/network-guard.js'
import { poll } from './support.js'
import type { SwarmNode } from '../../src/node/create-node.js'
import type { BootstrapError } from '../../src/messages/errors.js'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c() })

async function node (options: Parameters<typeof createNode>[0]): Promise<SwarmNode> {
  const n = await createNode({ verifier: 'inline', republish: false, ...options })
  cleanups.push(async () => { await n.stop() })
  return n
}

describe('network profiles on live nodes', () => {
  it('local (the default) listens on loopback and dials nothing', async () => {
    const n = await node({ network: 'local' })
    expect(n.multiaddrs.every(a => a.startsWith('/ip4/127.0.0.1/tcp/'))).toBe(true)
    const status = await n.ask({ type: 'swarm.status' })
    expect(status.connections).toBe(0)
    expect(status.mode).toBe('server')
  })

  it('a dial-only node (listen: []) is a DHT client that joins and reads the DHT', async () => {
    const server = await node({ loopback: true })
    const other = await node({ loopback: true, bootstrap: server.multiaddrs })
    const client = await node({ loopback: true, listen: [], bootstrap: server.multiaddrs })
    expect(client.multiaddrs).toEqual([])
    const status = await client.ask({ type: 'swarm.status' })
    expect(status.mode).toBe('client')
    expect(status.connections).toBeGreaterThan(0)
    const value = new TextEncoder().encode('from a client')
    const put = await client.ask({ type: 'dht.put', key: '/swarmbus/dial-only', value }, { timeoutMs: 15_000 })
    expect(put.peers).toBeGreaterThan(0)
    const got = await other.ask({ type: 'dht.get', key: '/swarmbus/dial-only' }, { timeoutMs: 15_000 })
    expect(new TextDecoder().decode(got.value)).toBe('from a client')
  })

  it('amino with local stand-ins: TCP and WebSockets on every interface, joins its bootstrap peer', async () => {
    const boot = await node({ loopback: true })
    const amino = await node({ network: { profile: 'amino', tcpPort: 0, wsPort: 0 }, loopback: true, bootstrap: boot.multiaddrs })
    const addrs = amino.multiaddrs
    expect(addrs.some(a => /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//.test(a))).toBe(true)
    const ws = addrs.find(a => /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/ws\/p2p\//.test(a))
    expect(ws).toBeDefined()
    const status = await amino.ask({ type: 'swarm.status' })
    expect(status.connections).toBeGreaterThan(0)
    // auto mode on loopback only: no public address, so kad-dht stays a client
    expect(status.mode).toBe('client')
    // a local node reaches it over WebSockets
    const wsDialer = await node({ loopback: true, listen: ['/ip4/127.0.0.1/tcp/0/ws'] })
    const dialled = await wsDialer.ask({ type: 'swarm.dial', multiaddr: ws ?? '' })
    expect(dialled.peerId).toBe(amino.peerId)
  })

  it('the connection limit holds: past maxConnections libp2p prunes back to it', async () => {
    const others = await Promise.all([0, 1, 2, 3].map(async () => await node({})))
    const fill = async (hub: SwarmNode): Promise<number> => {
      let dialled = 0
      for (const o of others) if ((await o.ask({ type: 'swarm.dial', multiaddr: hub.multiaddrs[0] ?? '' }).catch(() => undefined)) !== undefined) dialled++
      return dialled
    }
    // without a limit of its own (libp2p's default, 300) a node keeps more than two
    const open = await node({})
    expect(await fill(open)).toBe(4)
    expect((await open.ask({ type: 'swarm.status' })).connections).toBeGreaterThan(2)
    const hub = await node({ network: { profile: 'local', connections: { maxConnections: 2 } } })
    // (a dial the pruner cuts short during its upgrade fails: count none here)
    await fill(hub)
    expect(await poll(async () => (await hub.ask({ type: 'swarm.status' })).connections <= 2, 10_000)).toBe(true)
  })

  it('amino with its own bootstrap list tries exactly kubo\'s peers, and the guard stops every one', async () => {
    const dns = await startDnsServer()
    cleanups.push(async () => { await dns.close() })
    const err = await createNode({
      verifier: 'inline', republish: false, network: { profile: 'amino', tcpPort: 0, wsPort: false }, bootstrapTimeoutMs: 5_000,
      // the /dnsaddr names are asked of a local server (which knows none of them)
      dns: { servers: [dns.server] }
    }).then(() => undefined, (e: unknown) => e as BootstrapError)
    expect(err?.name).toBe('BootstrapError')
    expect(err?.failures.map(f => f.addr)).toEqual([...AMINO_BOOTSTRAP])
    expect(dns.count('_dnsaddr.bootstrap.libp2p.io')).toBeGreaterThan(0)
    expect(dns.count('_dnsaddr.va1.bootstrap.libp2p.io')).toBeGreaterThan(0)
    // the one fixed address was refused by the connection gater, before any socket
    expect(takeNetworkViolations()).toEqual([{ kind: 'libp2p', target: AMINO_BOOTSTRAP[5] }])
  })
})
