/**
 * Network profiles as data (profiles.ts) and what buildLibp2pOptions makes
 * of them: local is today's node; amino has kubo's bootstrap list, TCP 4001 +
 * WebSockets on every interface, AutoNAT, identify push, kad-dht's auto mode,
 * bounded connections, streams and peer store; every value can be replaced;
 * a dial-only node is valid.
 */
import { MemoryDatastore } from 'datastore-core'
import { describe, expect, it } from 'vitest'
import { buildLibp2pOptions, ed25519KeyFromSeed } from '../../../../src/actors/swarm/libp2p/libp2p-options.js'
import { AMINO_BOOTSTRAP, AMINO_PROFILE, LOCAL_PROFILE, resolveNetworkProfile } from '../../../../src/actors/swarm/libp2p/profiles.js'
import type { NetworkProfile } from '../../../../src/actors/swarm/libp2p/profiles.js'

async function optionsFor (profile: NetworkProfile, extra: Record<string, unknown> = {}): Promise<ReturnType<typeof buildLibp2pOptions>> {
  return buildLibp2pOptions({ datastore: new MemoryDatastore(), privateKey: await ed25519KeyFromSeed(new Uint8Array(32).fill(7)), profile, ...extra })
}

describe('network profiles', () => {
  it('local is today\'s node: loopback listen, no bootstrap, DHT server, nothing extra', async () => {
    expect(resolveNetworkProfile(undefined)).toEqual(LOCAL_PROFILE)
    expect(resolveNetworkProfile('local')).toEqual(LOCAL_PROFILE)
    const o = await optionsFor(LOCAL_PROFILE)
    expect(o.addresses?.listen).toEqual(['/ip4/127.0.0.1/tcp/0'])
    expect(o.transports).toHaveLength(1)
    expect(Object.keys(o.services ?? {}).sort()).toEqual(['dht', 'identify', 'ping'])
    expect(o.peerStore).toBeUndefined()
  })

  it('amino carries kubo\'s bootstrap peers, TCP 4001 + WebSockets on every interface, auto mode, AutoNAT and identify push', async () => {
    expect(AMINO_PROFILE.bootstrap).toBe(AMINO_BOOTSTRAP)
    expect(AMINO_BOOTSTRAP.filter(a => a.startsWith('/dnsaddr/bootstrap.libp2p.io/p2p/'))).toHaveLength(4)
    expect(AMINO_BOOTSTRAP).toContain('/ip4/104.131.131.82/tcp/4001/p2p/QmaCpDMGvV2BGHeYERUEnRQAwe3N8SzbUtfsmvsqQLuvuJ')
    const o = await optionsFor(AMINO_PROFILE)
    expect(o.addresses?.listen).toEqual(['/ip4/0.0.0.0/tcp/4001', '/ip6/::/tcp/4001', '/ip4/0.0.0.0/tcp/4002/ws', '/ip6/::/tcp/4002/ws'])
    expect(o.transports).toHaveLength(2)
    expect(Object.keys(o.services ?? {}).sort()).toEqual(['autoNAT', 'dht', 'identify', 'identifyPush', 'ping'])
    expect(o.connectionManager).toMatchObject({ maxConnections: 300, maxIncomingPendingConnections: 10 })
    expect(o.connectionManager?.allow).toBeUndefined()
    expect(o.peerStore).toEqual({ maxAddressAge: 3_600_000, maxPeerAge: 21_600_000 })
    expect(AMINO_PROFILE.mode).toBe('auto')
    expect(AMINO_PROFILE.upnp).toBe(false)
    expect(AMINO_PROFILE.recordSweep).toEqual({ intervalMs: 3_600_000, maxAgeMs: 48 * 3_600_000 })
    expect(AMINO_PROFILE.dht?.reprovide).toEqual({ interval: 3_600_000, threshold: 26 * 3_600_000, validity: 48 * 3_600_000, concurrency: 10 })
    expect(LOCAL_PROFILE.recordSweep).toBeUndefined()
  })

  it('settings replace each value: ports, WebSockets off, UPnP on, limits', async () => {
    const p = resolveNetworkProfile({ profile: 'amino', tcpPort: 0, wsPort: false, upnp: true, autonat: false, connections: { maxConnections: 50 }, dht: { maxInboundStreams: 8 }, peerStore: { maxPeerAge: 60_000 } })
    expect(p.listen).toEqual(['/ip4/0.0.0.0/tcp/0', '/ip6/::/tcp/0'])
    expect(p.websockets).toEqual([])
    expect(p.connections?.maxConnections).toBe(50)
    expect(p.dht?.maxInboundStreams).toBe(8)
    expect(p.dht?.maxOutboundStreams).toBe(64)
    expect(p.peerStore).toEqual({ maxAddressAge: 3_600_000, maxPeerAge: 60_000 })
    const o = await optionsFor(p)
    expect(o.transports).toHaveLength(1)
    expect(Object.keys(o.services ?? {}).sort()).toEqual(['dht', 'identify', 'identifyPush', 'ping', 'upnp'])
    expect(resolveNetworkProfile({ profile: 'amino', recordSweep: false }).recordSweep).toBeUndefined()
    expect(resolveNetworkProfile({ profile: 'local', recordSweep: { intervalMs: 60_000 } }).recordSweep).toEqual({ intervalMs: 60_000, maxAgeMs: 48 * 3_600_000 })
    expect(resolveNetworkProfile({ profile: 'local', tcpPort: 4101, wsPort: 4102 }).listen).toEqual(['/ip4/127.0.0.1/tcp/4101'])
    expect(resolveNetworkProfile({ profile: 'local', wsPort: 4102 }).websockets).toEqual(['/ip4/127.0.0.1/tcp/4102/ws'])
  })

  it('explicit options override the profile: listen, loopback (allow-list), announce', async () => {
    const o = await optionsFor(AMINO_PROFILE, { listen: ['/ip4/127.0.0.1/tcp/0'], loopback: true, announce: ['/ip4/127.0.0.1/tcp/9'] })
    expect(o.addresses).toMatchObject({ listen: ['/ip4/127.0.0.1/tcp/0'], announce: ['/ip4/127.0.0.1/tcp/9'] })
    expect(o.connectionManager?.allow).toEqual(['/ip4/127.0.0.0/ipcidr/8', '/ip6/::1/ipcidr/128'])
    // the profile's WebSockets transport stays, so /ws addresses can be dialled
    expect(o.transports).toHaveLength(2)
    const ws = await optionsFor(LOCAL_PROFILE, { listen: ['/ip4/127.0.0.1/tcp/0/ws'] })
    expect(ws.transports).toHaveLength(2)
  })

  it('a dial-only node is valid (no listen address)', async () => {
    const o = await optionsFor(AMINO_PROFILE, { listen: [] })
    expect(o.addresses?.listen).toEqual([])
    const m = await optionsFor(LOCAL_PROFILE, { listen: [], transport: 'memory' })
    expect(m.addresses?.listen).toEqual([])
  })

  it('refuses malformed settings with a RangeError', () => {
    expect(() => resolveNetworkProfile({ tcpPort: 70_000 })).toThrow(RangeError)
    expect(() => resolveNetworkProfile({ wsPort: -1 })).toThrow(RangeError)
    expect(() => resolveNetworkProfile({ connections: { maxConnections: 0 } })).toThrow(RangeError)
    expect(() => resolveNetworkProfile('public' as never)).toThrow(/unknown network profile 'public'/)
  })
})
