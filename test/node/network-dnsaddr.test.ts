/**
 * Bootstrapping from /dnsaddr names, resolved by libp2p's dialler through
 * the node's DNS servers (createNode({ dns: { servers } }), the same as
 * DNSLink's) — here the real DNS server of test/helpers/dns-server.ts on
 * 127.0.0.1: TXT `_dnsaddr.<name>` → `dnsaddr=<multiaddr>`, entries for
 * other peers skipped, nested /dnsaddr entries followed, a loop cut off by
 * libp2p's recursion bound, over UDP and over DNS-over-HTTPS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createNode } from '../../src/node/create-node.js'
import { startDnsServer } from '../helpers/dns-server.js'
import type { TestDnsServer } from '../helpers/dns-server.js'
import type { SwarmNode } from '../../src/node/create-node.js'
import type { BootstrapError } from '../../src/messages/errors.js'

let dns: TestDnsServer
let boot: SwarmNode
const stops: SwarmNode[] = []

beforeAll(async () => {
  dns = await startDnsServer()
  boot = await createNode({ verifier: 'inline', republish: false, loopback: true })
})

afterAll(async () => {
  for (const n of stops) await n.stop()
  await boot.stop()
  await dns.close()
})

async function joiner (bootstrap: string, servers: string[] = [dns.server]): Promise<SwarmNode> {
  const n = await createNode({ verifier: 'inline', republish: false, loopback: true, bootstrap: [bootstrap], dns: { servers }, bootstrapTimeoutMs: 8_000 })
  stops.push(n)
  return n
}

async function connectedTo (n: SwarmNode, peerId: string): Promise<boolean> {
  return (await n.ask({ type: 'swarm.peers' })).peers.some(p => p.peerId === peerId)
}

describe('/dnsaddr bootstrap addresses', () => {
  it('resolves _dnsaddr.<name> on the given server and joins the peer it names', async () => {
    const addr = boot.multiaddrs[0] ?? ''
    dns.setTxt('_dnsaddr.boot.swarmbus.test', [`dnsaddr=/ip4/192.0.2.1/tcp/4001/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN`, `dnsaddr=${addr}`])
    const n = await joiner(`/dnsaddr/boot.swarmbus.test/p2p/${boot.peerId}`)
    expect(await connectedTo(n, boot.peerId)).toBe(true)
    expect(dns.count('_dnsaddr.boot.swarmbus.test')).toBeGreaterThan(0)
    // the entry for another peer id was skipped, so the guard saw no dial to it (it would fail this test)
  })

  it('follows nested /dnsaddr entries', async () => {
    const addr = boot.multiaddrs[0] ?? ''
    dns.setTxt('_dnsaddr.outer.swarmbus.test', [`dnsaddr=/dnsaddr/inner.swarmbus.test/p2p/${boot.peerId}`])
    dns.setTxt('_dnsaddr.inner.swarmbus.test', [`dnsaddr=${addr}`])
    const n = await joiner(`/dnsaddr/outer.swarmbus.test/p2p/${boot.peerId}`)
    expect(await connectedTo(n, boot.peerId)).toBe(true)
    expect(dns.count('_dnsaddr.inner.swarmbus.test')).toBeGreaterThan(0)
  })

  it('resolves over DNS-over-HTTPS too', async () => {
    dns.setTxt('_dnsaddr.doh.swarmbus.test', [`dnsaddr=${boot.multiaddrs[0] ?? ''}`])
    const n = await joiner(`/dnsaddr/doh.swarmbus.test/p2p/${boot.peerId}`, [dns.doh])
    expect(await connectedTo(n, boot.peerId)).toBe(true)
  })

  it('a /dnsaddr loop ends at libp2p\'s recursion bound, and a missing name reaches no peer', async () => {
    dns.setTxt('_dnsaddr.loop.swarmbus.test', [`dnsaddr=/dnsaddr/loop.swarmbus.test/p2p/${boot.peerId}`])
    const loop = await createNode({ verifier: 'inline', republish: false, loopback: true, bootstrap: [`/dnsaddr/loop.swarmbus.test/p2p/${boot.peerId}`], dns: { servers: [dns.server] }, bootstrapTimeoutMs: 8_000 })
      .then(() => undefined, (e: unknown) => e as BootstrapError)
    expect(loop?.name).toBe('BootstrapError')
    expect(loop?.failures[0]?.error).toMatch(/recursi/i)
    const missing = await createNode({ verifier: 'inline', republish: false, loopback: true, bootstrap: [`/dnsaddr/nowhere.swarmbus.test/p2p/${boot.peerId}`], dns: { servers: [dns.server] }, bootstrapTimeoutMs: 8_000 })
      .then(() => undefined, (e: unknown) => e as BootstrapError)
    expect(missing?.name).toBe('BootstrapError')
    expect(dns.count('_dnsaddr.nowhere.swarmbus.test')).toBeGreaterThan(0)
  })
})
